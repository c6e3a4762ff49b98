"""Airtable: ``X-Airtable-Content-MAC: hmac-sha256=<hex>``, keyed with base64 macSecretBase64.

Airtable's notification pings carry no delivery id: the ingress dedupes them by
a hash of the body (which holds the ping's timestamp).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence

from api.verifiers.base import (
    Verified,
    hex_digests,
    require_header,
    require_match,
    strip_prefix,
)

HEADER = "x-airtable-content-mac"
PREFIX = "hmac-sha256="


def decode_mac_secret(secret: str) -> bytes:
    try:
        return base64.b64decode(secret, validate=True)
    except binascii.Error as exc:
        raise ValueError("an airtable secret is the webhook's macSecretBase64 (base64)") from exc


class AirtableVerifier:
    def __init__(self, secrets: Sequence[str]) -> None:
        self._keys = [decode_mac_secret(secret) for secret in secrets]

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Verified:
        presented = strip_prefix(require_header(headers, HEADER), PREFIX)
        require_match([presented], hex_digests(self._keys, body),
                      "X-Airtable-Content-MAC does not match")
        return Verified(delivery_id=None)


def sign(secret: str, body: bytes) -> dict[str, str]:
    digest = hmac.new(decode_mac_secret(secret), body, hashlib.sha256).hexdigest()
    return {"X-Airtable-Content-MAC": PREFIX + digest}

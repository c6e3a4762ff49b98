"""Standard Webhooks (standardwebhooks.com): ``v1,<base64 HMAC-SHA256>`` over ``id.ts.body``."""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Mapping, Sequence

from api.verifiers.base import (
    Clock,
    Freshness,
    Verified,
    hmac_sha256,
    require_header,
    require_match,
)

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def decode_secret(secret: str) -> bytes:
    """A ``whsec_``-prefixed (or bare) base64 secret as key bytes; ValueError if not base64."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ValueError("a standard-webhooks secret is 'whsec_' + base64") from exc


class StandardWebhooksVerifier:
    def __init__(self, keys: Sequence[str], *, tolerance_s: int = 300,
                 clock: Clock = time.time) -> None:
        self._keys = [decode_secret(key) for key in keys]
        self._freshness = Freshness(tolerance_s, clock)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Verified:
        msg_id = require_header(headers, "webhook-id")
        raw_ts = require_header(headers, "webhook-timestamp")
        signatures = require_header(headers, "webhook-signature")
        self._freshness.check_unix(raw_ts)
        signed = f"{msg_id}.{raw_ts}.".encode() + body
        expected = [base64.b64encode(hmac_sha256(key, signed)) for key in self._keys]
        require_match(_v1_signatures(signatures), expected, "no webhook-signature matches")
        return Verified(delivery_id=msg_id)


def _v1_signatures(header: str) -> list[bytes]:
    found = []
    for item in header.split():
        version, _, value = item.partition(",")
        if version == "v1" and value:
            found.append(value.encode())
    return found


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Headers a Standard Webhooks sender would attach (for `hookstream send`, tests, bench)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac_sha256(decode_secret(secret), signed)).decode()
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": f"v1,{signature}"}


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()

"""Airtable: ``X-Airtable-Content-MAC: hmac-sha256=<hex>``, keyed with base64 macSecretBase64.

Airtable's notification pings carry no delivery id: the ingress dedupes them by
a hash of the body (which holds the ping's timestamp). Besides the configured
secrets, a `StoredSecrets` (the store ``hookstream airtable webhooks create``
writes) may supply the secret of the webhook the ping names.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import orjson

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


class StoredSecrets(Protocol):
    """The macSecretBase64 of a webhook by its id, or None when it is not stored."""

    def secret_for(self, webhook_id: str) -> str | None: ...


class AirtableVerifier:
    def __init__(self, secrets: Sequence[str], *, stored: StoredSecrets | None = None) -> None:
        self._keys = [decode_mac_secret(secret) for secret in secrets]
        self._stored = stored

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Verified:
        presented = strip_prefix(require_header(headers, HEADER), PREFIX)
        document = _document(body) if self._stored is not None else None
        keys = self._keys + self._stored_keys(document)
        require_match([presented], hex_digests(keys, body),
                      "X-Airtable-Content-MAC does not match")
        return Verified(delivery_id=None, document=document)

    def _stored_keys(self, document: dict[str, Any] | None) -> list[bytes]:
        webhook = (document or {}).get("webhook")
        webhook_id = webhook.get("id") if isinstance(webhook, dict) else None
        if self._stored is None or not isinstance(webhook_id, str):
            return []
        secret = self._stored.secret_for(webhook_id)
        try:
            return [decode_mac_secret(secret)] if secret else []
        except ValueError:
            return []


def _document(body: bytes) -> dict[str, Any] | None:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def sign(secret: str, body: bytes) -> dict[str, str]:
    digest = hmac.new(decode_mac_secret(secret), body, hashlib.sha256).hexdigest()
    return {"X-Airtable-Content-MAC": PREFIX + digest}

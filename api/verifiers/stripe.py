"""Stripe: ``Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "t.body">[,v1=...]``.

The secret (``whsec_...``) is used as UTF-8 bytes, as Stripe does. ``t`` must be
within the tolerance (300 s by default). Stripe's event ``id`` (body) is the
delivery id.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

from api.verifiers.base import (
    Clock,
    Freshness,
    InvalidSignature,
    Verified,
    body_event_id,
    hex_digests,
    require_header,
    require_match,
    signed_json_object,
    utf8_keys,
)

HEADER = "stripe-signature"


class StripeVerifier:
    def __init__(self, secrets: Sequence[str], *, tolerance_s: int = 300,
                 clock: Clock = time.time) -> None:
        self._keys = utf8_keys(secrets)
        self._freshness = Freshness(tolerance_s, clock)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Verified:
        timestamp, signatures = parse_header(require_header(headers, HEADER))
        self._freshness.check_unix(timestamp)
        signed = timestamp.encode() + b"." + body
        require_match(signatures, hex_digests(self._keys, signed), "no Stripe-Signature v1 matches")
        document = signed_json_object(body)
        return Verified(delivery_id=body_event_id(document), document=document)


def parse_header(header: str) -> tuple[str, list[bytes]]:
    """``t`` and every ``v1`` of a Stripe-Signature header."""
    timestamp, signatures = "", []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1" and value:
            signatures.append(value.lower().encode())
    if not timestamp or not signatures:
        raise InvalidSignature("Stripe-Signature needs t=... and v1=...")
    return timestamp, signatures


def sign(secret: str, body: bytes, *, timestamp: int) -> dict[str, str]:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {"Stripe-Signature": f"t={timestamp},v1={digest.hexdigest()}"}

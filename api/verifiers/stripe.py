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
    InvalidSignature,
    Verified,
    any_equal,
    check_timestamp,
    hex_digests,
    require_header,
    signed_json_object,
)

HEADER = "stripe-signature"


class StripeVerifier:
    def __init__(self, secrets: Sequence[str], *, tolerance_s: int = 300,
                 clock: Clock = time.time) -> None:
        self._keys = [secret.encode() for secret in secrets]
        self._tolerance_s = tolerance_s
        self._clock = clock

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Verified:
        timestamp, signatures = parse_header(require_header(headers, HEADER))
        check_timestamp(timestamp, tolerance_s=self._tolerance_s, clock=self._clock)
        signed = timestamp.encode() + b"." + body
        if not any_equal(signatures, hex_digests(self._keys, signed)):
            raise InvalidSignature("no Stripe-Signature v1 matches")
        event_id = signed_json_object(body).get("id")
        return Verified(delivery_id=event_id if isinstance(event_id, str) and event_id else None)


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

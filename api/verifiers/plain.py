"""Plain: ``Plain-Request-Signature`` = hex HMAC-SHA256 of the raw body.

The delivery time is inside the signed body
(``webhookMetadata.webhookDeliveryAttemptTimestamp``, ISO 8601): it is read
only after the MAC matched, and a delivery further than the tolerance from now
is refused as a replay. Plain's event ``id`` is the delivery id.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from datetime import datetime

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

HEADER = "plain-request-signature"


class PlainVerifier:
    def __init__(self, secrets: Sequence[str], *, tolerance_s: int = 300,
                 clock: Clock = time.time) -> None:
        self._keys = utf8_keys(secrets)
        self._freshness = Freshness(tolerance_s, clock)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Verified:
        presented = require_header(headers, HEADER).strip().lower().encode()
        require_match([presented], hex_digests(self._keys, body),
                      "Plain-Request-Signature does not match")
        event = signed_json_object(body)
        self._freshness.check(_attempt_time_s(event))
        return Verified(delivery_id=body_event_id(event), document=event)


def _attempt_time_s(event: Mapping[str, object]) -> float:
    metadata = event.get("webhookMetadata")
    raw = metadata.get("webhookDeliveryAttemptTimestamp") if isinstance(metadata, dict) else None
    if not isinstance(raw, str):
        raise InvalidSignature("webhookMetadata.webhookDeliveryAttemptTimestamp is missing")
    try:
        attempted = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidSignature("webhookDeliveryAttemptTimestamp is not ISO 8601") from None
    if attempted.tzinfo is None:
        raise InvalidSignature("webhookDeliveryAttemptTimestamp has no time zone")
    return attempted.timestamp()


def sign(secret: str, body: bytes) -> dict[str, str]:
    return {"Plain-Request-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}

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
    InvalidSignature,
    StaleTimestamp,
    Verified,
    any_equal,
    hex_digests,
    require_header,
    signed_json_object,
)

HEADER = "plain-request-signature"


class PlainVerifier:
    def __init__(self, secrets: Sequence[str], *, tolerance_s: int = 300,
                 clock: Clock = time.time) -> None:
        self._keys = [secret.encode() for secret in secrets]
        self._tolerance_s = tolerance_s
        self._clock = clock

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Verified:
        presented = require_header(headers, HEADER).strip().lower().encode()
        if not any_equal([presented], hex_digests(self._keys, body)):
            raise InvalidSignature("Plain-Request-Signature does not match")
        event = signed_json_object(body)
        self._check_fresh(_attempt_time_s(event))
        event_id = event.get("id")
        return Verified(delivery_id=event_id if isinstance(event_id, str) and event_id else None)

    def _check_fresh(self, attempted_at_s: float) -> None:
        skew_s = abs(self._clock() - attempted_at_s)
        if skew_s > self._tolerance_s:
            raise StaleTimestamp(f"delivery attempt is {int(skew_s)} s away from now "
                                 f"(tolerance {self._tolerance_s} s)")


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

"""The seam between the ingress and the workers: admit a delivery to the durable queue.

Admission is one atomic step: a delivery seen within the dedupe window is a
duplicate (nothing enqueued), one over the source's rate limit is refused
(nothing enqueued, nothing remembered), anything else is enqueued *and*
remembered together. `RedisIntake` (api/intake.py) does it in one Lua script;
`MemoryQueue` is the in-memory fake for unit tests.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol


class QueueUnavailable(Exception):
    """The queue did not durably take the delivery in time; the sender must retry."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """A verified webhook; `job_args` are the worker actor's small JSON-native arguments."""

    source: str
    delivery_id: str
    event_id: str
    body: str
    received_at_ms: int

    def job_args(self) -> tuple[str, str, str, int]:
        return (self.source, self.event_id, self.body, self.received_at_ms)


@dataclass(frozen=True, slots=True)
class Policy:
    """How long a delivery id is remembered, and how many new deliveries a second pass."""

    dedupe_window_s: int
    rate_limit_per_s: int | None = None


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class Admission:
    outcome: Outcome
    retry_after_ms: int = 0


class DeliveryQueue(Protocol):
    async def admit(self, delivery: Delivery, policy: Policy) -> Admission: ...


@dataclass
class MemoryQueue:
    """A `DeliveryQueue` in a list (no windows expire, no clock), for unit tests."""

    deliveries: list[Delivery] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)
    fail_with: Exception | None = None
    rate_limited: bool = False

    async def admit(self, delivery: Delivery, policy: Policy) -> Admission:
        if self.fail_with is not None:
            raise QueueUnavailable(str(self.fail_with))
        key = (delivery.source, delivery.delivery_id)
        outcome = (Outcome.DUPLICATE if key in self.seen
                   else Outcome.RATE_LIMITED if self.rate_limited else Outcome.ACCEPTED)
        if outcome is Outcome.ACCEPTED:
            self.seen.add(key)
            self.deliveries.append(delivery)
        return Admission(outcome, retry_after_ms=1000 if self.rate_limited else 0)

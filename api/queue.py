"""The seam between the ingress and the workers: a durable delivery queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class QueueUnavailable(Exception):
    """The queue did not durably take the delivery; the sender must retry."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """A verified webhook, as small JSON-native actor arguments."""

    source: str
    event_id: str
    body: str
    received_at_ms: int


class DeliveryQueue(Protocol):
    def enqueue(self, delivery: Delivery) -> None: ...


class SendsMessages(Protocol):
    """What the ingress needs of a dramatiq actor."""

    def send(self, *args: Any, **kwargs: Any) -> Any: ...


class DramatiqQueue:
    """Enqueue through a dramatiq actor; broker errors become `QueueUnavailable`."""

    def __init__(self, actor: SendsMessages, transient: tuple[type[BaseException], ...]) -> None:
        self._actor = actor
        self._transient = transient

    def enqueue(self, delivery: Delivery) -> None:
        try:
            self._actor.send(delivery.source, delivery.event_id, delivery.body,
                             delivery.received_at_ms)
        except self._transient as exc:
            raise QueueUnavailable(str(exc)) from exc


@dataclass
class MemoryQueue:
    """A `DeliveryQueue` that keeps deliveries in a list, for unit tests."""

    deliveries: list[Delivery] = field(default_factory=list)
    fail_with: Exception | None = None

    def enqueue(self, delivery: Delivery) -> None:
        if self.fail_with is not None:
            raise QueueUnavailable(str(self.fail_with))
        self.deliveries.append(delivery)

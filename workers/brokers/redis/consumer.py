"""`WakeupConsumer`: a dramatiq consumer that waits on Redis instead of polling.

Its loop, per call of ``__next__`` (dramatiq's ConsumerThread calls it forever):

1. hand out a message fetched earlier, if any;
2. with room under the prefetch limit, fetch (one script call: `scripts.FETCH`),
   unless the last fetch found the queue empty and nothing woke us since;
3. otherwise wait, and return None so the thread can move due delayed messages:
   - no room: on a local condition that acks signal, until a quarter of it is back;
   - room: a blocking pop on the queue's wake-up list (and this consumer's own
     interrupt list) for at most ``wake_timeout_s``, or until the earliest eta
     of a delayed message it holds comes due.

An enqueue anywhere pushes a token, so an idle consumer wakes within a round
trip; a missing token costs at most ``wake_timeout_s``.

It subclasses dramatiq's public `dramatiq.broker.Consumer` (not the Redis
broker's private ``_RedisConsumer``: nothing of that is used) and talks to its
broker only through `ConsumerBroker`, so this module imports nothing of the
broker's and the broker imports it, one way. `MemoryConsumerBroker` is that
seam's in-memory fake.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis
from dramatiq.broker import Consumer, MessageProxy
from dramatiq.common import current_millis
from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message

MAX_FETCH = 1_000
DRAIN_POLL_S = 0.05
MIN_BLOCK_S = 0.001


class ConsumerBroker(Protocol):
    """What a `WakeupConsumer` needs from its broker (`broker.WakeupBroker`)."""

    @property
    def draining(self) -> bool: ...

    @property
    def wake_timeout_s(self) -> float: ...

    def wake_keys(self, queue_name: str) -> list[str]: ...

    def block(self, names: Sequence[str], *, timeout_s: float) -> None: ...

    def fetch(self, queue_name: str, count: int) -> list[bytes]: ...

    def acknowledge(self, queue_name: str, redis_message_id: str) -> None: ...

    def requeue_ids(self, queue_name: str, message_ids: Sequence[str]) -> int: ...

    def dead_letter(self, queue_name: str, message: MessageProxy) -> bool: ...

    def forget(self, consumer: WakeupConsumer) -> None: ...


class WakeupConsumer(Consumer):
    def __init__(self, broker: ConsumerBroker, queue_name: str, prefetch: int) -> None:
        self.broker = broker
        self.queue_name = queue_name
        self.prefetch = prefetch
        self.queued_message_ids: set[str] = set()
        self._cache: deque[bytes] = deque()
        self._room_back = threading.Condition()
        self._refill_at = max(1, prefetch // 4)
        self._etas: dict[str, int] = {}
        self._drained = False
        self._wait_keys = broker.wake_keys(queue_name)

    def __next__(self) -> MessageProxy | None:
        try:
            if not self._cache and self._may_fetch():
                self._fetch()
            if self._cache:
                return self._take()
            self._wait()
            self._drained = False  # woken (or timed out): worth a fetch
            return None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise _closed(exc) from None

    def _may_fetch(self) -> bool:
        return not self._drained and self._room() > 0 and not self.broker.draining

    def _fetch(self) -> None:
        wanted = min(self._room(), MAX_FETCH)
        fetched = self.broker.fetch(self.queue_name, wanted)
        # Fewer than asked: the queue is empty, so the next message brings a wake token.
        self._drained = len(fetched) < wanted
        self._cache.extend(fetched)

    @property
    def outstanding_message_count(self) -> int:
        return len(self.queued_message_ids) + len(self._cache)

    def ack(self, message: MessageProxy) -> None:
        try:
            # The current queue, not message.queue_name: a delayed message is acked on its DQ.
            self.broker.acknowledge(self.queue_name, message.options["redis_message_id"])
        except redis.ConnectionError as exc:
            raise _closed(exc) from None
        finally:
            self.queued_message_ids.discard(message.message_id)
            self._released(message)

    def nack(self, message: MessageProxy) -> None:
        try:
            self.broker.dead_letter(self.queue_name, message)
        except redis.ConnectionError as exc:
            raise _closed(exc) from None
        finally:
            self.queued_message_ids.discard(message.message_id)
            self._released(message)

    def requeue(self, messages: Iterable[Any]) -> None:
        batch = list(messages)
        message_ids = [message.options["redis_message_id"] for message in batch]
        if message_ids:
            self.broker.requeue_ids(self.queue_name, message_ids)
        for message in batch:
            self._etas.pop(message.options["redis_message_id"], None)

    def close(self) -> None:
        """Give back messages fetched but never handed out."""
        self.broker.forget(self)
        leftovers = [Message.decode(data) for data in self._cache]
        self._cache.clear()
        try:
            self.requeue(leftovers)
        except redis.RedisError as exc:
            raise _closed(exc) from None

    def _take(self) -> MessageProxy:
        message = Message.decode(self._cache.popleft())
        self.queued_message_ids.add(message.message_id)
        eta = message.options.get("eta")
        if isinstance(eta, int | float):
            self._etas[message.options["redis_message_id"]] = int(eta)
        return MessageProxy(message)

    def _room(self) -> int:
        return self.prefetch - self.outstanding_message_count

    def interrupt(self) -> None:
        """Wake this consumer from a wait for room (the broker is draining)."""
        with self._room_back:
            self._room_back.notify_all()

    def _may_refill(self) -> bool:
        return self.broker.draining or self._room() >= self._refill_at

    def _released(self, message: MessageProxy) -> None:
        self._etas.pop(message.options.get("redis_message_id", ""), None)
        with self._room_back:
            if self._room() >= self._refill_at:
                self._room_back.notify()

    def _wait(self) -> None:
        if self.broker.draining:
            time.sleep(DRAIN_POLL_S)
            return
        wait_s = self.broker.wake_timeout_s
        due_in_s = self._next_eta_in_s()
        if due_in_s is not None:
            if due_in_s <= 0:
                return
            wait_s = min(wait_s, due_in_s)
        if self._room() <= 0:
            with self._room_back:
                self._room_back.wait_for(self._may_refill, timeout=wait_s)
            return
        self.broker.block(self._wait_keys, timeout_s=max(wait_s, MIN_BLOCK_S))

    def _next_eta_in_s(self) -> float | None:
        etas = list(self._etas.values())
        return (min(etas) - current_millis()) / 1000 if etas else None


def _closed(exc: Exception) -> ConnectionClosed:
    return ConnectionClosed(exc)  # type: ignore[no-untyped-call]


@dataclass
class MemoryConsumerBroker:
    """A `ConsumerBroker` over in-memory queues, for unit tests of the consumer's loop."""

    queues: dict[str, deque[bytes]] = field(default_factory=dict)
    acked: list[tuple[str, str]] = field(default_factory=list)
    requeued: list[tuple[str, list[str]]] = field(default_factory=list)
    dead: list[tuple[str, str]] = field(default_factory=list)
    blocks: list[tuple[list[str], float]] = field(default_factory=list)
    draining: bool = False
    wake_timeout_s: float = 0.01

    def wake_keys(self, queue_name: str) -> list[str]:
        return [f"{queue_name}.wake"]

    def block(self, names: Sequence[str], *, timeout_s: float) -> None:
        self.blocks.append((list(names), timeout_s))

    def fetch(self, queue_name: str, count: int) -> list[bytes]:
        queue = self.queues.setdefault(queue_name, deque())
        return [queue.popleft() for _ in range(min(count, len(queue)))]

    def acknowledge(self, queue_name: str, redis_message_id: str) -> None:
        self.acked.append((queue_name, redis_message_id))

    def requeue_ids(self, queue_name: str, message_ids: Sequence[str]) -> int:
        self.requeued.append((queue_name, list(message_ids)))
        return len(message_ids)

    def dead_letter(self, queue_name: str, message: MessageProxy) -> bool:
        self.dead.append((queue_name, message.options["redis_message_id"]))
        return True

    def forget(self, consumer: WakeupConsumer) -> None:
        pass

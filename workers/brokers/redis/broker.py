"""`WakeupBroker`: dramatiq's RedisBroker with wake-ups instead of polling.

Same keys, message format, actors and middleware as the stock broker; what changes:

- enqueue, ack, requeue, dead-letter and fetch run hookstream's scripts
  (`scripts`), never dramatiq's ``dispatch.lua``: every enqueue pushes a wake
  token (`common.queueing`); key names come from `common.keys`;
- consumers (`consumer.WakeupConsumer`) block on that token list rather
  than sleeping and polling, so pickup is immediate and idle workers are quiet;
- one heartbeat thread per consuming process (`heartbeat`);
- no maintenance lottery: the janitor (`janitor`) requeues the messages
  of dead workers on a schedule, from the scheduler process;
- shutdown interrupts blocked consumers (`Drain`) so a worker stops promptly.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import redis
from dramatiq import Middleware
from dramatiq.broker import Broker, MessageProxy
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis

from common import keys
from common.queueing import WAKE_MAX_TOKENS
from common.redis import connect
from common.settings import Settings
from workers.brokers.redis import scripts
from workers.brokers.redis.consumer import WakeupConsumer
from workers.brokers.redis.heartbeat import Heartbeat

BLOCKING_SOCKET_MARGIN_S = 10.0


class WakeupBroker(RedisBroker):
    def __init__(self, *, client: redis.Redis, blocking_client: redis.Redis, namespace: str,
                 heartbeat_interval_s: float, wake_timeout_s: float,
                 middleware: list[Middleware] | None = None) -> None:
        super().__init__(client=client, namespace=namespace,  # type: ignore[no-untyped-call]
                         maintenance_chance=0, middleware=middleware)
        self.blocking_client = blocking_client
        self.wake_timeout_s = wake_timeout_s
        self.heartbeat = Heartbeat(client, keys.heartbeats_key(namespace), self.broker_id,
                                   interval_s=heartbeat_interval_s)
        self._draining = threading.Event()
        self._consumers: list[WakeupConsumer] = []
        self._script = {name: client.register_script(text) for name, text in (
            ("enqueue", scripts.ENQUEUE), ("fetch", scripts.FETCH), ("ack", scripts.ACK),
            ("requeue", scripts.REQUEUE), ("dead_letter", scripts.DEAD_LETTER))}
        self.add_middleware(Drain())

    @property
    def consumer_class(self) -> type[WakeupConsumer]:
        return WakeupConsumer

    @property
    def draining(self) -> bool:
        return self._draining.is_set()

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> WakeupConsumer:
        self.heartbeat.start()
        consumer = WakeupConsumer(self, queue_name, prefetch)
        self._consumers.append(consumer)
        return consumer

    def do_enqueue(self, queue_name: str, message_id: str, data: bytes) -> None:
        ns = self.namespace
        self._script["enqueue"](
            keys=[keys.queue_key(ns, queue_name), keys.messages_key(ns, queue_name),
                  keys.wake_key(ns, queue_name)],
            args=[message_id, data, WAKE_MAX_TOKENS])

    def fetch(self, queue_name: str, count: int) -> list[bytes]:
        ns = self.namespace
        found: list[bytes] = self._script["fetch"](
            keys=[keys.queue_key(ns, queue_name), keys.messages_key(ns, queue_name),
                  keys.acks_key(ns, self.broker_id, queue_name), keys.heartbeats_key(ns),
                  keys.wake_key(ns, queue_name), keys.worker_queues_key(ns, self.broker_id)],
            args=[count, current_millis(), self.broker_id, queue_name])
        return found

    def acknowledge(self, queue_name: str, redis_message_id: str) -> None:
        ns = self.namespace
        self._script["ack"](keys=[keys.acks_key(ns, self.broker_id, queue_name),
                                  keys.messages_key(ns, queue_name)],
                            args=[redis_message_id])

    def wake_keys(self, queue_name: str) -> list[str]:
        """What a consumer of *queue_name* blocks on: the queue's tokens and its own interrupts."""
        return [keys.wake_key(self.namespace, queue_name),
                keys.interrupt_key(self.namespace, self.broker_id, queue_name)]

    def block(self, names: Sequence[str], *, timeout_s: float) -> None:
        """Wait (on the blocking pool) until one of *names* gets a token or *timeout_s* passes."""
        self.blocking_client.blpop(list(names), timeout=timeout_s)

    def requeue_ids(self, queue_name: str, message_ids: Sequence[str]) -> int:
        ns = self.namespace
        requeued: int = self._script["requeue"](
            keys=[keys.queue_key(ns, queue_name), keys.messages_key(ns, queue_name),
                  keys.acks_key(ns, self.broker_id, queue_name), keys.wake_key(ns, queue_name)],
            args=[WAKE_MAX_TOKENS, *message_ids])
        return requeued

    def dead_letter(self, queue_name: str, message: MessageProxy) -> bool:
        """Move a fetched message to its queue's dead letters, failure recorded in its options."""
        ns = self.namespace
        moved: int = self._script["dead_letter"](
            keys=[keys.messages_key(ns, queue_name), keys.acks_key(ns, self.broker_id, queue_name),
                  keys.dead_letters_key(ns, queue_name),
                  keys.dead_letter_messages_key(ns, queue_name)],
            args=[message.options["redis_message_id"], current_millis(), message.encode()])
        return bool(moved)

    def interrupt(self, queue_names: Iterable[str]) -> None:
        """Wake this process's consumers of *queue_names* out of a blocking wait."""
        with self.client.pipeline(transaction=False) as pipe:
            for queue_name in queue_names:
                key = keys.interrupt_key(self.namespace, self.broker_id, queue_name)
                pipe.rpush(key, 1)
                pipe.pexpire(key, 60_000)
            pipe.execute()

    def drain(self) -> None:
        """Stop fetching and wake every blocked consumer: the worker is shutting down."""
        self._draining.set()
        for consumer in list(self._consumers):
            consumer.interrupt()
        self.interrupt(consumer.queue_name for consumer in self._consumers)

    def forget(self, consumer: WakeupConsumer) -> None:
        """A closed consumer (dramatiq makes a new one after a connection error)."""
        if consumer in self._consumers:
            self._consumers.remove(consumer)

    def close(self) -> None:
        self.heartbeat.stop()
        super().close()
        self.blocking_client.close()


class Drain(Middleware):
    """Interrupts blocked consumers when the worker begins its shutdown."""

    def before_worker_shutdown(self, broker: Broker, worker: Any) -> None:
        if isinstance(broker, WakeupBroker):
            broker.drain()


def build_broker(settings: Settings, *, socket_timeout_s: float = 10.0) -> WakeupBroker:
    """The broker every hookstream process uses, from settings."""
    url = settings.require_redis_url()
    workers = settings.workers
    # Blocking pops need a socket timeout longer than the block, and no health-check
    # PING before each pop (that would be a second call per wake-up).
    blocking = connect(url, socket_timeout_s=workers.wake_timeout_s + BLOCKING_SOCKET_MARGIN_S,
                       connect_timeout_s=socket_timeout_s, health_check_interval_s=0)
    return WakeupBroker(client=connect(url, socket_timeout_s=socket_timeout_s),
                        blocking_client=blocking, namespace=workers.namespace,
                        heartbeat_interval_s=workers.heartbeat_interval_s,
                        wake_timeout_s=workers.wake_timeout_s)


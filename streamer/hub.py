"""The hub: one Redis reader per streamer process, fanning events out to subscribers.

Connections never talk to Redis for live events. The reader follows the event
log with blocking ``XREAD`` from the last position it saw, so a Redis blip
loses nothing: it reconnects and continues from there. Each event is matched
through the `SubscriptionIndex` and encoded once; every matching subscriber
gets the same bytes. One timer task per process sends heartbeats, notices
peers that left, closes streams whose token expired, and samples rates; one
task drains the process on SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

import redis
import redis.asyncio
import structlog

from streamer.clock import Expiries, Rate
from streamer.frames import HEARTBEAT, event_frame
from streamer.index import SubscriptionIndex
from streamer.peers import encode_chunk
from streamer.positions import Position, to_position
from streamer.subscriber import Subscriber

log = structlog.get_logger(__name__)
READ_BLOCK_MS = 5_000
READ_COUNT = 1_000
RECONNECT_DELAY_S = 0.5
TICK_S = 1.0
DISPATCH_SLICE = 8
DRAIN_STEP_S = 0.01


@dataclass
class HubStats:
    events: int = 0
    deliveries: int = 0
    drops: int = 0
    closes: dict[str, int] = field(default_factory=dict)


class Hub:
    def __init__(self, client: redis.asyncio.Redis, stream_key: str, *,
                 heartbeat_s: float) -> None:
        self._client = client
        self._stream_key = stream_key
        self._heartbeat_s = heartbeat_s
        self.index: SubscriptionIndex[Subscriber] = SubscriptionIndex()
        self.subscribers: set[Subscriber] = set()
        self.stats = HubStats()
        self.rate = Rate()
        self.expiries = Expiries()
        self.last_position = "0-0"
        self.draining = False
        self._pending: set[Subscriber] = set()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def position(self) -> Position:
        return to_position(self.last_position)

    async def start(self) -> None:
        self.last_position = await self._tail_position()
        self._tasks = [asyncio.create_task(self._read_forever(), name="hub-reader"),
                       asyncio.create_task(self._tick_forever(), name="hub-timer")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for subscriber in list(self.subscribers):
            subscriber.close("shutdown")

    def attach(self, subscriber: Subscriber, *, expires_at_s: float | None = None) -> None:
        self.subscribers.add(subscriber)
        self.index.add(subscriber, subscriber.patterns)
        if expires_at_s is not None:
            self.expiries.add(subscriber, expires_at_s)

    def detach(self, subscriber: Subscriber) -> None:
        if subscriber in self.subscribers:
            self.subscribers.discard(subscriber)
            self.index.remove(subscriber, subscriber.patterns)
            reason = subscriber.close_reason or "client_gone"
            self.stats.closes[reason] = self.stats.closes.get(reason, 0) + 1

    def dispatch(self, entries: list[Any]) -> None:
        """Deliver event-log entries.

        One entry (the usual case when the reader keeps up) goes straight to
        every idle stream's transport. Several are queued and each stream they
        touched is flushed once, in one write: bursts coalesce.
        """
        single = len(entries) == 1
        for position, fields in entries:
            self._route(position.decode(), fields, at_once=single)
        pending, self._pending = self._pending, set()
        for subscriber in pending:
            subscriber.flush()

    def _route(self, position: str, fields: dict[bytes, bytes], *, at_once: bool) -> None:
        self.last_position = position
        self.stats.events += 1
        targets = self.index.match(fields[b"topic"].decode())
        if not targets:
            return
        frame = event_frame(position, fields[b"type"].decode(), fields[b"e"])
        if at_once:
            targets = self._send_now(frame, targets)
        delivered = 0
        for subscriber in targets:
            delivered += subscriber.push(frame)
        self.stats.deliveries += delivered
        self.stats.drops += len(targets) - delivered
        self._pending |= targets

    def _send_now(self, frame: bytes, targets: set[Subscriber]) -> set[Subscriber]:
        """Write *frame* to every idle target; return the ones that must queue it."""
        chunk = encode_chunk(frame)
        busy = {subscriber for subscriber in targets if not subscriber.send_now(frame, chunk)}
        self.stats.deliveries += len(targets) - len(busy)
        return busy

    async def caught_up(self, position: Position, *, timeout_s: float) -> bool:
        """Wait (bounded) until the reader has passed *position*."""
        deadline = time.monotonic() + timeout_s
        while self.position < position and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.position >= position

    def drain(self, window_s: float) -> None:
        """Stop taking streams; close the open ones in random order over *window_s*."""
        if not self.draining:
            self.draining = True
            log.info("hub.draining", connections=len(self.subscribers), window_s=window_s)
            self._tasks.append(asyncio.create_task(self._close_spread(window_s), name="drain"))

    async def _close_spread(self, window_s: float) -> None:
        order = list(self.subscribers)
        random.shuffle(order)
        started = time.monotonic()
        for number, subscriber in enumerate(order):
            due_s = started + window_s * number / max(len(order), 1)
            if due_s - time.monotonic() > DRAIN_STEP_S:
                await asyncio.sleep(due_s - time.monotonic())
            subscriber.close("shutdown")

    async def _tail_position(self) -> str:
        newest: Any = await self._client.xrevrange(self._stream_key, count=1)
        return str(newest[0][0].decode()) if newest else "0-0"

    async def _read_forever(self) -> None:
        while True:
            try:
                reply: Any = await self._client.xread({self._stream_key: self.last_position},
                                                      block=READ_BLOCK_MS, count=READ_COUNT)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("hub.redis_unavailable", error=str(exc))
                await asyncio.sleep(RECONNECT_DELAY_S)
                continue
            for _stream, entries in reply or []:
                await self._dispatch_all(entries)

    async def _dispatch_all(self, entries: list[Any]) -> None:
        """Dispatch a batch, letting connections write every few entries.

        Without the pauses a burst of `READ_COUNT` entries would land in every
        buffer at once and count against its limit before any could drain.
        """
        for start in range(0, len(entries), DISPATCH_SLICE):
            self.dispatch(entries[start:start + DISPATCH_SLICE])
            await asyncio.sleep(0)

    async def _tick_forever(self) -> None:
        tick_s = min(TICK_S, self._heartbeat_s)
        next_heartbeat_s = time.monotonic() + self._heartbeat_s
        while True:
            await asyncio.sleep(tick_s)
            self._expire(time.time())
            self.rate.sample(time.monotonic(), self.stats.events)
            if time.monotonic() >= next_heartbeat_s:
                next_heartbeat_s += self._heartbeat_s
                self._heartbeat()

    def _expire(self, now_s: float) -> None:
        for subscriber in self.expiries.due(now_s):
            subscriber.close("token_expired")
        if len(self.expiries) > 2 * len(self.subscribers) + 1024:
            self.expiries.compact(self.subscribers.__contains__)

    def _heartbeat(self) -> None:
        for subscriber in list(self.subscribers):
            if subscriber.peer is not None and subscriber.peer.gone():
                subscriber.close("client_gone")
            elif not subscriber.frames and subscriber.push(HEARTBEAT):
                subscriber.flush()

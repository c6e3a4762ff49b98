"""The hub: one Redis reader per streamer process, fanning events out to subscribers.

Connections never talk to Redis for live events. The reader follows the event
log with blocking ``XREAD`` from the last position it saw, so a Redis blip
loses nothing: it reconnects and continues from there. Each event is matched
through the `SubscriptionIndex` and encoded once; every matching subscriber
gets the same bytes. One timer sends heartbeats to every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio
import structlog

from streamer.frames import HEARTBEAT, event_frame
from streamer.index import SubscriptionIndex
from streamer.subscriber import Subscriber

log = structlog.get_logger(__name__)
READ_BLOCK_MS = 5_000
READ_COUNT = 1_000
RECONNECT_DELAY_S = 0.5


@dataclass
class HubStats:
    events: int = 0
    deliveries: int = 0
    drops: int = 0


class Hub:
    def __init__(self, client: redis.asyncio.Redis, stream_key: str, *,
                 heartbeat_s: float) -> None:
        self._client = client
        self._stream_key = stream_key
        self._heartbeat_s = heartbeat_s
        self.index: SubscriptionIndex[Subscriber] = SubscriptionIndex()
        self.subscribers: set[Subscriber] = set()
        self.stats = HubStats()
        self.last_position = "0-0"
        self._tasks: list[asyncio.Task[None]] = []
        self.ready = asyncio.Event()

    async def start(self) -> None:
        self.last_position = await self._tail_position()
        self._tasks = [asyncio.create_task(self._read_forever(), name="hub-reader"),
                       asyncio.create_task(self._heartbeat_forever(), name="hub-heartbeat")]
        self.ready.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for subscriber in list(self.subscribers):
            subscriber.close("shutdown")

    def attach(self, subscriber: Subscriber) -> None:
        self.subscribers.add(subscriber)
        self.index.add(subscriber, subscriber.patterns)

    def detach(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        self.index.remove(subscriber, subscriber.patterns)

    def dispatch(self, position: str, fields: dict[bytes, bytes]) -> None:
        """Deliver one event-log entry to every subscriber whose patterns match it."""
        self.last_position = position
        self.stats.events += 1
        targets = self.index.match(fields[b"topic"].decode())
        if not targets:
            return
        frame = event_frame(position, fields[b"type"].decode(), fields[b"e"])
        for subscriber in targets:
            if subscriber.push(frame):
                self.stats.deliveries += 1
            else:
                self.stats.drops += 1

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
                for position, fields in entries:
                    self.dispatch(position.decode(), fields)

    async def _heartbeat_forever(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s)
            for subscriber in list(self.subscribers):
                if not subscriber.frames:
                    subscriber.push(HEARTBEAT)

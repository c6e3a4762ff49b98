"""The operator dashboard's figures, across every process.

Each streamer process runs a `Reporter`: once a second it writes its own
figures (connections by topic and subject, events/s, deliveries/s, drops,
closes) to Redis under an expiring key. `Aggregator.snapshot` sums the live
reports and adds what the other tiers already keep in Redis: webhooks by
source and outcome (the ingress's counters), queue depths and dead letters.
`GET /dashboard/events` sends one snapshot a second as SSE.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import redis.asyncio
import structlog

from streamer import keys

log = structlog.get_logger(__name__)
REPORT_INTERVAL_S = 1.0
STALE_AFTER_S = 5.0
Figures = Callable[[], dict[str, Any]]


def new_process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Reporter:
    """Writes this process's figures to Redis every `REPORT_INTERVAL_S`."""

    def __init__(self, client: redis.asyncio.Redis, namespace: str, figures: Figures, *,
                 process_id: str | None = None) -> None:
        self._client, self._namespace, self._figures = client, namespace, figures
        self.process_id = process_id or new_process_id()
        self._last: tuple[float, int] | None = None

    async def report(self, now_s: float) -> None:
        figures = self._figures()
        figures["deliveries_per_s"] = self._rate(now_s, figures.get("deliveries", 0))
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.set(keys.report_key(self._namespace, self.process_id), orjson.dumps(figures),
                     px=int(STALE_AFTER_S * 1000))
            pipe.zadd(keys.reporters_key(self._namespace), {self.process_id: now_s})
            await pipe.execute()

    def _rate(self, now_s: float, deliveries: int) -> float:
        last, self._last = self._last, (now_s, deliveries)
        if last is None or now_s <= last[0]:
            return 0.0
        return round((deliveries - last[1]) / (now_s - last[0]), 1)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.report(time.time())
            except redis.RedisError as exc:
                log.warning("dashboard.report_failed", error=str(exc))
            await asyncio.sleep(REPORT_INTERVAL_S)

    async def withdraw(self) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.delete(keys.report_key(self._namespace, self.process_id))
            pipe.zrem(keys.reporters_key(self._namespace), self.process_id)
            await pipe.execute()


class Aggregator:
    """One snapshot of every tier's figures, read from Redis."""

    def __init__(self, client: redis.asyncio.Redis, namespace: str, *,
                 queues: Sequence[str], sources: Sequence[str]) -> None:
        self._client, self._namespace = client, namespace
        self._queues, self._sources = list(queues), list(sources)

    async def snapshot(self, now_s: float) -> dict[str, Any]:
        reports = await self._reports(now_s)
        async with self._client.pipeline(transaction=False) as pipe:
            for queue in self._queues:
                pipe.llen(keys.queue_depth_key(self._namespace, queue))
                pipe.zcard(keys.dead_letters_key(self._namespace, queue))
            for source in self._sources:
                pipe.hgetall(keys.webhook_stats_key(source))
            replies = await pipe.execute()
        depths = replies[:2 * len(self._queues)]
        return {
            "time": now_s,
            **summed(reports),
            "queues": {queue: {"depth": depths[2 * n], "dead_letters": depths[2 * n + 1]}
                       for n, queue in enumerate(self._queues)},
            "webhooks": {source: _decoded(counts) for source, counts
                         in zip(self._sources, replies[len(depths):], strict=True)},
        }

    async def _reports(self, now_s: float) -> list[dict[str, Any]]:
        reporters = keys.reporters_key(self._namespace)
        await self._client.zremrangebyscore(reporters, "-inf", now_s - STALE_AFTER_S)
        ids = await self._client.zrange(reporters, 0, -1)
        if not ids:
            return []
        names = [keys.report_key(self._namespace, _text(i)) for i in ids]
        return [orjson.loads(raw) for raw in await self._client.mget(names) if raw]


def summed(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Every process's figures added up (events/s is the log's rate: the busiest reader's)."""
    total: dict[str, Any] = {"processes": len(reports)}
    for name in ("connections", "deliveries_per_s", "drops"):
        total[name] = round(sum(report.get(name, 0) for report in reports), 1)
    total["events_per_s"] = max((report.get("events_per_s", 0) for report in reports), default=0)
    for name in ("by_topic", "by_subject", "closes"):
        counter: Counter[str] = Counter()
        for report in reports:
            counter.update(report.get(name, {}))
        total[name] = dict(counter.most_common(50))
    return total


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decoded(counts: dict[bytes, bytes]) -> dict[str, int]:
    return {name.decode(): int(value) for name, value in counts.items()}

"""The operator dashboard's figures, across every process.

Each streamer process runs a `Reporter`: once a second it reports its own
figures (connections by topic and subject, events/s, deliveries/s, drops,
closes) through `common.reports` as kind ``streamer``. Other processes may
report kinds of their own the same way. `Aggregator.snapshot` sums the live
reports of each kind and adds what the other tiers already keep in Redis:
webhooks by source and outcome (the ingress's counters), queue depths and dead
letters. `GET /dashboard/events` sends one snapshot a second as SSE.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import redis.asyncio
import structlog

from common import reports
from streamer import keys

log = structlog.get_logger(__name__)
KIND = "streamer"
REPORT_INTERVAL_S = 1.0
STALE_AFTER_S = reports.STALE_AFTER_S
Figures = Callable[[], dict[str, Any]]


class Reporter:
    """Reports this streamer process's figures every `REPORT_INTERVAL_S`."""

    def __init__(self, client: redis.asyncio.Redis, namespace: str, figures: Figures, *,
                 process_id: str | None = None) -> None:
        self._client, self._namespace, self._figures = client, namespace, figures
        self.process_id = process_id or reports.new_process_id()
        self._last: tuple[float, int] | None = None

    async def report(self, now_s: float) -> None:
        figures = self._figures()
        figures["deliveries_per_s"] = self._rate(now_s, figures.get("deliveries", 0))
        async with self._client.pipeline(transaction=False) as pipe:
            reports.queue_report(pipe, self._namespace, KIND, self.process_id, figures,
                                 now_s=now_s)
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
            pipe.delete(reports.report_key(self._namespace, KIND, self.process_id))
            pipe.zrem(reports.live_key(self._namespace, KIND), self.process_id)
            await pipe.execute()


class Aggregator:
    """One snapshot of every tier's figures, read from Redis."""

    def __init__(self, client: redis.asyncio.Redis, namespace: str, *,
                 queues: Sequence[str], sources: Sequence[str]) -> None:
        self._client, self._namespace = client, namespace
        self._queues, self._sources = list(queues), list(sources)

    async def snapshot(self, now_s: float) -> dict[str, Any]:
        by_kind = await self._reports(now_s)
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
            **summed(by_kind.pop(KIND, [])),
            "queues": {queue: {"depth": depths[2 * n], "dead_letters": depths[2 * n + 1]}
                       for n, queue in enumerate(self._queues)},
            "webhooks": {source: _decoded(counts) for source, counts
                         in zip(self._sources, replies[len(depths):], strict=True)},
            "others": {kind: summed_numbers(found) for kind, found in sorted(by_kind.items())},
        }

    async def _reports(self, now_s: float) -> dict[str, list[dict[str, Any]]]:
        kinds = sorted(_text(kind) for kind in await self._client.smembers(
            reports.kinds_key(self._namespace)))
        return {kind: await self._live(kind, now_s) for kind in kinds}

    async def _live(self, kind: str, now_s: float) -> list[dict[str, Any]]:
        live = reports.live_key(self._namespace, kind)
        await self._client.zremrangebyscore(live, "-inf", now_s - STALE_AFTER_S)
        ids = await self._client.zrange(live, 0, -1)
        if not ids:
            return []
        names = [reports.report_key(self._namespace, kind, _text(i)) for i in ids]
        return [orjson.loads(raw) for raw in await self._client.mget(names) if raw]


def summed(found: list[dict[str, Any]]) -> dict[str, Any]:
    """Every streamer's figures added up (events/s is the log's rate: the busiest reader's)."""
    total: dict[str, Any] = {"processes": len(found)}
    for name in ("connections", "deliveries_per_s", "drops"):
        total[name] = round(sum(report.get(name, 0) for report in found), 1)
    total["events_per_s"] = max((report.get("events_per_s", 0) for report in found), default=0)
    for name in ("by_topic", "by_subject", "closes"):
        counter: Counter[str] = Counter()
        for report in found:
            counter.update(report.get(name, {}))
        total[name] = dict(counter.most_common(50))
    return total


def summed_numbers(found: list[dict[str, Any]]) -> dict[str, float]:
    """Another kind's figures: every top-level number summed over its live processes."""
    total: Counter[str] = Counter({"processes": len(found)})
    for report in found:
        total.update({name: value for name, value in report.items()
                      if isinstance(value, int | float) and not isinstance(value, bool)})
    return {name: round(value, 3) for name, value in total.items()}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decoded(counts: dict[bytes, bytes]) -> dict[str, int]:
    return {name.decode(): int(value) for name, value in counts.items()}

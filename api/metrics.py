"""``GET /metrics``: the ingress's Prometheus metrics, read from Redis when scraped.

The counters are the per-source stats that every ingress process shares
(api/stats.py), so any process answers for the whole tier and a restart or a
scale-down loses no counts; nothing is counted per process on the hot path.

- ``hookstream_ingress_webhooks_received_total{source}``
- ``hookstream_ingress_webhooks_total{source,outcome}``: accepted, duplicate,
  filtered, rejected (they add up to received);
- ``hookstream_ingress_webhooks_rejected_total{source,reason}``: the reasons of
  ``GET /webhooks/{source}`` (bad_signature, payload_too_large, rate_limited, ...);
- ``hookstream_queue_messages{queue}``: deliveries waiting for a worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence

import falcon.asgi
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.errors import ServiceUnavailable
from api.stats import SourceStats

Backlog = Callable[[], Awaitable[int]]
ExtraMetrics = Callable[[], Awaitable[list[Metric]]]  # more families, e.g. the Airtable domain's
OUTCOMES = {"accepted": "accepted", "duplicates": "duplicate", "filtered": "filtered"}
REJECTED = "rejected:"


def families(counts: Mapping[str, Mapping[str, int]], queue: str,
             backlog: int) -> list[Metric]:
    """The metric families of one scrape: *counts* per source, *backlog* on *queue*."""
    received = CounterMetricFamily("hookstream_ingress_webhooks_received",
                                   "Webhook deliveries received", labels=["source"])
    outcomes = CounterMetricFamily("hookstream_ingress_webhooks",
                                   "Webhook deliveries by outcome", labels=["source", "outcome"])
    rejected = CounterMetricFamily("hookstream_ingress_webhooks_rejected",
                                   "Webhook deliveries refused, by reason",
                                   labels=["source", "reason"])
    for source, fields in sorted(counts.items()):
        received.add_metric([source], fields.get("received", 0))
        for field, outcome in OUTCOMES.items():
            outcomes.add_metric([source, outcome], fields.get(field, 0))
        reasons = {name.removeprefix(REJECTED): value for name, value in sorted(fields.items())
                   if name.startswith(REJECTED)}
        outcomes.add_metric([source, "rejected"], sum(reasons.values()))
        for reason, value in reasons.items():
            rejected.add_metric([source, reason], value)
    waiting = GaugeMetricFamily("hookstream_queue_messages", "Messages waiting on a queue",
                                labels=["queue"])
    waiting.add_metric([queue], backlog)
    return [received, outcomes, rejected, waiting]


class _Snapshot(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield from self._metrics


def render(metrics: list[Metric]) -> bytes:
    """The Prometheus text exposition of *metrics*."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(metrics))
    return generate_latest(registry)


class Metrics:
    def __init__(self, sources: Sequence[str], stats: SourceStats, backlog: Backlog, *,
                 queue: str, retry_after_s: int, extra: ExtraMetrics | None = None) -> None:
        self._sources = list(sources)
        self._extra = extra
        self._stats = stats
        self._backlog = backlog
        self._queue = queue
        self._retry_after_s = retry_after_s

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        try:
            counts = await asyncio.gather(*(self._stats.read(name) for name in self._sources))
            backlog = await self._backlog()
            extra = await self._extra() if self._extra is not None else []
        except Exception as exc:
            raise ServiceUnavailable(f"metrics unavailable: {type(exc).__name__}",
                                     retry_after_s=self._retry_after_s) from exc
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = render(families(dict(zip(self._sources, counts, strict=True)),
                                    self._queue, backlog) + extra)

"""``GET /stats`` (JSON) and ``GET /metrics`` (Prometheus), read from the hub at request time.

Nothing is counted on the hot path beyond the hub's plain integers; the
Prometheus collector turns them into metrics when scraped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from streamer.hub import Hub
from streamer.limits import ConnectionLimits


def stats_of(hub: Hub, limits: ConnectionLimits) -> dict[str, Any]:
    return {
        "connections": len(hub.subscribers),
        "by_topic": hub.index.counts_by_pattern(),
        "by_subject": dict(limits.by_subject),
        "events": hub.stats.events,
        "events_per_s": round(hub.rate.per_second(), 2),
        "deliveries": hub.stats.deliveries,
        "drops": hub.stats.drops,
        "closes": dict(hub.stats.closes),
        "position": hub.last_position,
        "draining": hub.draining,
    }


class HubCollector(Collector):
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def collect(self) -> Iterator[Metric]:
        stats = self._hub.stats
        yield GaugeMetricFamily("hookstream_streamer_connections", "Open SSE streams",
                                value=len(self._hub.subscribers))
        yield GaugeMetricFamily("hookstream_streamer_draining", "1 while draining",
                                value=int(self._hub.draining))
        yield CounterMetricFamily("hookstream_streamer_events", "Events read from the log",
                                  value=stats.events)
        yield CounterMetricFamily("hookstream_streamer_deliveries", "Frames queued to streams",
                                  value=stats.deliveries)
        yield CounterMetricFamily("hookstream_streamer_drops",
                                  "Frames not queued (stream closed or too slow)",
                                  value=stats.drops)
        closes = CounterMetricFamily("hookstream_streamer_closes", "Streams closed, by reason",
                                     labels=["reason"])
        for reason, count in sorted(stats.closes.items()):
            closes.add_metric([reason], count)
        yield closes


def metrics_registry(hub: Hub) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector(hub))
    return registry

"""Prometheus metrics of the worker tier, read from Redis at scrape time (no idle cost).

- ``hookstream_dead_letters{queue}``: messages in the queue's dead letters (``XQ``);
- ``hookstream_queue_messages{queue}``: messages waiting on the queue;
- ``hookstream_worker_restarts_total``: worker processes restarted by ``hookstream worker``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import redis
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from common.keys import queue_key
from workers.deadletters import DeadLetters


class WorkerCollector(Collector):
    def __init__(self, client: redis.Redis, dead_letters: DeadLetters, namespace: str,
                 queues: Sequence[str], *, restarts: Callable[[], int] = lambda: 0) -> None:
        self._client = client
        self._dead_letters = dead_letters
        self._namespace = namespace
        self._queues = list(queues)
        self._restarts = restarts

    def collect(self) -> Iterator[Metric]:
        dead = GaugeMetricFamily("hookstream_dead_letters",
                                 "Messages in the dead letters of a queue", labels=["queue"])
        waiting = GaugeMetricFamily("hookstream_queue_messages",
                                    "Messages waiting on a queue", labels=["queue"])
        for queue in self._queues:
            dead.add_metric([queue], self._dead_letters.count(queue))
            waiting.add_metric([queue], self._client.llen(queue_key(self._namespace, queue)))
        yield dead
        yield waiting
        yield CounterMetricFamily("hookstream_worker_restarts",
                                  "Worker processes restarted after they died",
                                  value=self._restarts())


def serve_metrics(collector: Collector, port: int, *, host: str = "0.0.0.0") -> None:
    """Expose *collector* at ``http://host:port/metrics`` from a daemon thread."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    start_http_server(port, addr=host, registry=registry)

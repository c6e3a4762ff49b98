"""Figures: the named numbers a process knows, and the names the dashboard reads.

A `Figure` is a name, labels, a value and a merge rule saying how the dashboard
combines the same figure from several processes:

- ``sum``: each process holds its own share (streams it serves, messages it ran);
- ``max``: the worst wins (a watch's lag, a budget's use);
- ``last``: the same shared value seen by several processes (a queue's depth,
  the ingress's Redis counters): the newest report wins.

Names ending in ``_total`` are counters (they only grow while the process
lives); the dashboard shows their rate per second beside their value.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

import orjson

Merge = Literal["sum", "max", "last"]
MERGES: tuple[Merge, ...] = ("sum", "max", "last")
Labels = tuple[tuple[str, str], ...]
OTHER = "(other)"

# The ingress (every ingress process reads the per-source counters they share: last).
INGRESS_WEBHOOKS = "ingress_webhooks_total"            # {source, outcome}
INGRESS_REJECTIONS = "ingress_rejections_total"        # {source, reason}
# Each streamer process (sum).
STREAMER_CONNECTIONS = "streamer_connections"
STREAMER_TOPICS = "streamer_connections_by_topic"      # {topic}: a subscribed pattern
STREAMER_SUBJECTS = "streamer_connections_by_subject"  # {subject}: a token's sub
STREAMER_EVENTS = "streamer_events_total"
STREAMER_DELIVERIES = "streamer_deliveries_total"
STREAMER_DROPS = "streamer_drops_total"                # frames a too-slow stream did not take
STREAMER_CLOSES = "streamer_closes_total"              # {reason}: slow_consumer, client_gone, ...
# Each worker process (sum), and the queues they all see (last).
WORKER_MESSAGES = "worker_messages_total"              # {actor, outcome}: done, failed, retried
QUEUE_MESSAGES = "queue_messages"                      # {queue}
DEAD_LETTERS = "dead_letters"                          # {queue}
# The scheduler.
SCHEDULER_LEADING = "scheduler_leading"                # 1 in the process holding the lease
SCHEDULER_JOBS = "scheduler_jobs_total"                # {job}
# Reported by the domains through `Telemetry` (docs/dashboard.md).
CACHE_HITS = "cache_hits_total"                        # {cache}
CACHE_MISSES = "cache_misses_total"                    # {cache}
AIRTABLE_BUDGET_USED = "airtable_budget_used_ratio"    # {scope}: 0..1, max
AIRTABLE_REQUESTS = "airtable_requests_total"          # {outcome}
SQL_WATCH_LAG = "sql_watch_lag_s"                      # {watch}: max


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    value: float
    labels: Labels = ()
    merge: Merge = "sum"

    @property
    def key(self) -> tuple[str, Merge, Labels]:
        return (self.name, self.merge, self.labels)


def figure(name: str, value: float, labels: Mapping[str, str] | None = None, *,
           merge: Merge = "sum") -> Figure:
    return Figure(name, float(value), as_labels(labels), merge)


def as_labels(labels: Mapping[str, str] | None) -> Labels:
    return tuple(sorted((str(k), str(v)) for k, v in (labels or {}).items()))


class Figures(Protocol):
    """What one part of a process knows, read each time the process reports."""

    def figures(self) -> Iterable[Figure]: ...


@dataclass
class FixedFigures:
    """A `Figures` holding whatever a test puts in ``items``."""

    items: list[Figure] = field(default_factory=list)

    def figures(self) -> Iterable[Figure]:
        return list(self.items)


def top(counts: Mapping[str, int], limit: int) -> list[tuple[str, int]]:
    """The *limit* largest of *counts*, the rest summed under ``(other)``."""
    if len(counts) <= limit:
        return sorted(counts.items())
    largest = heapq.nlargest(limit, counts.items(), key=lambda item: item[1])
    rest = sum(counts.values()) - sum(value for _, value in largest)
    return [*sorted(largest), (OTHER, rest)]


def encode_field(key: tuple[str, Merge, Labels]) -> bytes:
    """A figure's hash field: ``["name","merge",{"label":"value"}]``."""
    name, merge, labels = key
    return orjson.dumps([name, merge, dict(labels)])


def decode_field(raw: bytes) -> tuple[str, Merge, Labels] | None:
    """The key of a hash field written by `encode_field`, or None for anything else."""
    try:
        name, merge, labels = orjson.loads(raw)
    except (orjson.JSONDecodeError, ValueError, TypeError):
        return None
    if merge not in MERGES or not isinstance(labels, dict):
        return None
    return (str(name), merge, as_labels(labels))

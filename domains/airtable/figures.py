"""What the Airtable domain reports to the dashboard, read from its shared Redis state.

The counters live in the stats hash every process shares (`stats`): the read
cache's hits and misses, and per base the requests granted, refused for want
of a slot (``busy``), held back by a pause (``paused``), answered 429
(``throttled``) and the pauses started. Every process reading them sees the
same values, so they are ``last`` figures (the newest read wins).

Budget use is per base the share of the base's rate really sent within the
last second (its send log, `budget`), and for the API token the share of its
rate taken in that second: ``max`` figures between 0 and 1. The bases come
from the previous read of the stats hash, so one report is one pipelined
round trip (a base's first report has its counters but not yet its use).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import redis

from common.redis import text
from common.telemetry import Figure, figure
from common.telemetry import figures as names
from domains.airtable import keys
from domains.airtable.budget import NO_BASE

CACHE = "airtable"
WINDOW_US = 1_000_000
# stats hash counter -> the outcome it counts; the first three partition the requests asked.
OUTCOMES = {"granted": "granted", "busy": "busy", "paused_waits": "paused",
            "throttled": "throttled", "pauses": "pauses"}


class AirtableFigures:
    """A `Figures` of the Airtable cache, request counters and budget use."""

    def __init__(self, client: redis.Redis, namespace: str, *, base_rate_per_s: float,
                 token_rate_per_s: float, token_id: str | None = None,
                 clock_us: Callable[[], int] = lambda: int(time.time() * 1e6)) -> None:
        self._client = client
        self._namespace = namespace
        self._base_limit = max(1, int(base_rate_per_s))
        self._token_limit = max(1, int(token_rate_per_s))
        self._token_id = token_id
        self._clock_us = clock_us
        self._bases: list[str] = []

    def figures(self) -> list[Figure]:
        bases, since = list(self._bases), self._clock_us() - WINDOW_US
        pipe = self._client.pipeline(transaction=False)
        pipe.hgetall(keys.stats_key(self._namespace))
        for base in bases:
            pipe.zcount(keys.base_sent_key(self._namespace, base), since, "+inf")
        if self._token_id is not None:
            pipe.zcount(keys.token_budget_key(self._namespace, self._token_id), since,
                        since + WINDOW_US)
        replies = pipe.execute()
        counters = {text(k): int(v) for k, v in replies[0].items()}
        self._bases = sorted({name.partition(":")[2] for name in counters
                              if name.startswith("granted:")} - {NO_BASE, ""})
        return [*_counters(counters), *self._use(bases, replies[1:])]

    def _use(self, bases: list[str], replies: list[Any]) -> Iterator[Figure]:
        for base, sent in zip(bases, replies, strict=False):
            yield figure(names.AIRTABLE_BUDGET_USED, int(sent) / self._base_limit,
                         {"scope": f"base:{base}"}, merge="max")
        if self._token_id is not None:
            yield figure(names.AIRTABLE_BUDGET_USED, int(replies[-1]) / self._token_limit,
                         {"scope": "token"}, merge="max")


def _counters(counters: dict[str, int]) -> Iterator[Figure]:
    cache = {"cache": CACHE}
    yield figure(names.CACHE_HITS, counters.get("cache_hits", 0), cache, merge="last")
    yield figure(names.CACHE_MISSES, counters.get("cache_misses", 0), cache, merge="last")
    totals = dict.fromkeys(OUTCOMES.values(), 0)
    for name, value in counters.items():
        counter, _, base = name.partition(":")
        if base and counter in OUTCOMES:
            totals[OUTCOMES[counter]] += value
    for outcome, value in totals.items():
        yield figure(names.AIRTABLE_REQUESTS, value, {"outcome": outcome}, merge="last")

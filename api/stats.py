"""Per-source counters shared by every ingress process (one Redis hash per source).

Fields: ``received``, ``accepted``, ``duplicates``, ``filtered`` and
``rejected:<reason>``. The admission script counts received/accepted/
duplicates/rate-limited atomically with the enqueue; rejections decided before
Redis (bad signature, too large, ...) are counted here, best effort: a Redis
failure never changes the answer a sender gets.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

import redis.asyncio
import structlog
from redis.exceptions import RedisError

from common.keys import stats_key
from common.redis import text

log = structlog.get_logger(__name__)


class SourceStats(Protocol):
    async def count(self, source: str, outcome: str) -> None: ...

    async def read(self, source: str) -> dict[str, int]: ...


class RedisStats:
    def __init__(self, client: redis.asyncio.Redis, *, namespace: str, timeout_s: float) -> None:
        self._client = client
        self._namespace = namespace
        self._timeout_s = timeout_s

    async def count(self, source: str, outcome: str) -> None:
        """Count one received delivery that ended in *outcome*, without raising."""
        pipe = self._client.pipeline(transaction=False)
        key = stats_key(self._namespace, source)
        pipe.hincrby(key, "received", 1)
        pipe.hincrby(key, outcome, 1)
        try:
            await asyncio.wait_for(pipe.execute(), self._timeout_s)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("stats.count_failed", error=type(exc).__name__)

    async def read(self, source: str) -> dict[str, int]:
        key = stats_key(self._namespace, source)
        raw = await asyncio.wait_for(self._client.hgetall(key), self._timeout_s)
        return {text(name): int(value) for name, value in raw.items()}


@dataclass
class MemoryStats:
    """In-memory `SourceStats` for unit tests."""

    counters: dict[str, Counter[str]] = field(default_factory=dict)

    async def count(self, source: str, outcome: str) -> None:
        counter = self.counters.setdefault(source, Counter())
        counter["received"] += 1
        counter[outcome] += 1

    async def read(self, source: str) -> dict[str, int]:
        return dict(self.counters.get(source, Counter()))

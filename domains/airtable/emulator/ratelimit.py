"""Airtable's per-base limit: N requests in ANY sliding second, then a penalty.

A request over the limit answers 429 and starts the penalty (30 s by default);
during it every request to that base answers 429. The per-base counters (and
the busiest sliding second seen, counting refused attempts too) are what the
budget tests and the bench read back through the admin API.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domains.airtable.emulator.errors import RateLimited

WINDOW_S = 1.0


@dataclass
class BaseTraffic:
    accepted: deque[float] = field(default_factory=deque)
    attempts: deque[float] = field(default_factory=deque)
    penalty_until: float = 0.0
    requests: int = 0
    rejected: int = 0
    penalties: int = 0
    peak_accepted_per_s: int = 0
    peak_attempts_per_s: int = 0

    def stats(self, now: float) -> dict[str, Any]:
        return {"requests": self.requests, "accepted": self.requests - self.rejected,
                "rejected": self.rejected, "penalties": self.penalties,
                "peak_accepted_per_s": self.peak_accepted_per_s,
                "peak_attempts_per_s": self.peak_attempts_per_s,
                "penalised_for_s": max(0.0, self.penalty_until - now)}


def _slide(window: deque[float], now: float) -> None:
    while window and window[0] <= now - WINDOW_S:
        window.popleft()


class RateLimiter:
    def __init__(self, *, rate_per_s: int = 5, penalty_s: float = 30.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.now = now
        self.rate_per_s = rate_per_s
        self.penalty_s = penalty_s
        self.traffic: dict[str, BaseTraffic] = {}

    def admit(self, base_id: str) -> None:
        """Count one request to ``base_id``; raise `RateLimited` if it is refused."""
        now = self.now()
        traffic = self.traffic.setdefault(base_id, BaseTraffic())
        traffic.requests += 1
        _slide(traffic.attempts, now)
        traffic.attempts.append(now)
        traffic.peak_attempts_per_s = max(traffic.peak_attempts_per_s, len(traffic.attempts))
        _slide(traffic.accepted, now)
        if now < traffic.penalty_until:
            self._refuse(traffic, now, start_penalty=False)
        if len(traffic.accepted) >= self.rate_per_s:
            self._refuse(traffic, now, start_penalty=True)
        traffic.accepted.append(now)
        traffic.peak_accepted_per_s = max(traffic.peak_accepted_per_s, len(traffic.accepted))

    def _refuse(self, traffic: BaseTraffic, now: float, *, start_penalty: bool) -> None:
        traffic.rejected += 1
        if start_penalty:
            traffic.penalties += 1
            traffic.penalty_until = now + self.penalty_s
        raise RateLimited(retry_after_s=traffic.penalty_until - now)

    def stats(self, base_id: str) -> dict[str, Any]:
        return self.traffic.setdefault(base_id, BaseTraffic()).stats(self.now())

    def reset(self, base_id: str) -> None:
        self.traffic.pop(base_id, None)

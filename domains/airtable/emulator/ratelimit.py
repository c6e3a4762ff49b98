"""Airtable's limits: N requests per base and M per token in ANY sliding second, then a penalty.

A request over a limit answers 429 and starts the penalty (30 s by default);
during it every request to that base (or with that token, to any base) answers
429. Airtable's figures are 5 per base and 50 per token. The per-base counters
(and the busiest sliding second seen, counting refused attempts too) are what
the budget tests and the bench read back through the admin API; the per-token
ones are kept the same way, by token.
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
                 token_rate_per_s: int = 50,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.now = now
        self.rate_per_s = rate_per_s
        self.token_rate_per_s = token_rate_per_s
        self.penalty_s = penalty_s
        self.traffic: dict[str, BaseTraffic] = {}
        self.token_traffic: dict[str, BaseTraffic] = {}

    def admit(self, base_id: str, token: str | None = None) -> None:
        """Count one request to ``base_id`` (with ``token``); raise `RateLimited` if refused.

        A request refused by one limit counts as an attempt in both and as
        accepted in neither."""
        now = self.now()
        lanes = [(self.traffic.setdefault(base_id, BaseTraffic()), self.rate_per_s)]
        if token is not None:
            lanes.append((self.token_traffic.setdefault(token, BaseTraffic()),
                          self.token_rate_per_s))
        for traffic, _ in lanes:
            traffic.requests += 1
            _slide(traffic.attempts, now)
            traffic.attempts.append(now)
            traffic.peak_attempts_per_s = max(traffic.peak_attempts_per_s, len(traffic.attempts))
            _slide(traffic.accepted, now)
        over = [traffic for traffic, limit in lanes if len(traffic.accepted) >= limit]
        if over or any(now < traffic.penalty_until for traffic, _ in lanes):
            self._refuse(lanes, over, now)
        for traffic, _ in lanes:
            traffic.accepted.append(now)
            traffic.peak_accepted_per_s = max(traffic.peak_accepted_per_s, len(traffic.accepted))

    def _refuse(self, lanes: list[tuple[BaseTraffic, int]], over: list[BaseTraffic],
                now: float) -> None:
        """Refuse: each limit gone over starts its penalty; the answer names the longest."""
        for counted, _ in lanes:
            counted.rejected += 1
        for traffic in over:
            if now >= traffic.penalty_until:
                traffic.penalties += 1
                traffic.penalty_until = now + self.penalty_s
        raise RateLimited(retry_after_s=max(traffic.penalty_until for traffic, _ in lanes) - now)

    def stats(self, base_id: str) -> dict[str, Any]:
        return self.traffic.setdefault(base_id, BaseTraffic()).stats(self.now())

    def token_stats(self, token: str) -> dict[str, Any]:
        return self.token_traffic.setdefault(token, BaseTraffic()).stats(self.now())

    def reset(self, base_id: str) -> None:
        self.traffic.pop(base_id, None)

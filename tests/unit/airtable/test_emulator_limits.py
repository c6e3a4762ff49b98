"""The emulator's per-base limit: N requests in any sliding second, then a penalty."""

from __future__ import annotations

import httpx
import pytest

from domains.airtable.emulator.errors import RateLimited
from domains.airtable.emulator.ratelimit import RateLimiter
from tests.airtable_support import DEMO_BASE, admin, start_emulator


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_holds_over_any_sliding_second_not_calendar_seconds() -> None:
    clock = FakeTime()
    limiter = RateLimiter(rate_per_s=5, penalty_s=30, now=clock)
    clock.now = 100.5
    for _ in range(3):
        limiter.admit("app1")
    clock.now = 101.2  # a new calendar second, but the sliding second still holds 3
    limiter.admit("app1")
    limiter.admit("app1")
    with pytest.raises(RateLimited):
        limiter.admit("app1")
    assert limiter.stats("app1")["rejected"] == 1


def test_every_request_is_refused_during_the_penalty_then_served() -> None:
    clock = FakeTime()
    limiter = RateLimiter(rate_per_s=5, penalty_s=30, now=clock)
    for _ in range(5):
        limiter.admit("app1")
    with pytest.raises(RateLimited):
        limiter.admit("app1")
    clock.now += 29.0
    with pytest.raises(RateLimited):
        limiter.admit("app1")
    clock.now += 1.5
    limiter.admit("app1")
    limiter.admit("app2")  # other bases were never limited


def test_over_http_a_burst_gets_429_rate_limit_reached_and_counts() -> None:
    server = start_emulator(rate_per_s=5, penalty_s=0.5)
    try:
        headers = {"Authorization": "Bearer t"}
        statuses = []
        with httpx.Client(headers=headers) as client:
            for _ in range(50):
                response = client.get(f"{server.url}/v0/{DEMO_BASE}/Tasks")
                statuses.append(response.status_code)
                if response.status_code == 429:
                    break
        assert statuses[-1] == 429
        assert response.json()["errors"][0]["type"] == "RATE_LIMIT_REACHED"
        stats = admin(server.url, "GET", f"/bases/{DEMO_BASE}/stats")
        assert stats["peak_accepted_per_s"] == 5
        assert stats["rejected"] == 1 and stats["penalties"] == 1
        admin(server.url, "POST", f"/bases/{DEMO_BASE}/stats/reset")
        assert admin(server.url, "GET", f"/bases/{DEMO_BASE}/stats")["requests"] == 0
    finally:
        server.stop()

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


def test_the_token_limit_spans_bases_and_its_penalty_stops_every_base() -> None:
    clock = FakeTime()
    limiter = RateLimiter(rate_per_s=5, token_rate_per_s=8, penalty_s=30, now=clock)
    for base in ("app1", "app2"):
        for _ in range(4):
            limiter.admit(base, "tok")
    with pytest.raises(RateLimited):
        limiter.admit("app3", "tok")  # a fresh base, but the token had 8 in this second
    clock.now += 5.0
    with pytest.raises(RateLimited):
        limiter.admit("app4", "tok")  # the token's penalty covers every base
    limiter.admit("app4", "other-token")
    assert limiter.token_stats("tok")["penalties"] == 1
    assert limiter.stats("app3")["accepted"] == 0  # refused by the token, not counted in the base
    clock.now += 30.0
    limiter.admit("app4", "tok")


def test_over_http_the_token_limit_answers_429_across_bases() -> None:
    server = start_emulator(rate_per_s=100, token_rate_per_s=6, penalty_s=0.5)
    try:
        created = admin(server.url, "POST", "/bases", {"id": "appSecondBase0001", "tables": [
            {"id": "tblSecond00000001", "name": "Things", "fields": [{"name": "Name"}]}]})
        assert created
        with httpx.Client(headers={"Authorization": "Bearer t"}) as client:
            statuses = [client.get(f"{server.url}/v0/{base}/{table}").status_code
                        for base, table in [(DEMO_BASE, "Tasks"), ("appSecondBase0001", "Things")]
                        * 4]
            assert statuses[:6] == [200] * 6 and statuses[6] == 429
            other = client.get(f"{server.url}/v0/{DEMO_BASE}/Tasks",
                               headers={"Authorization": "Bearer another"})
            assert other.status_code == 200
    finally:
        server.stop()


@pytest.mark.parametrize("body", [{"rate_per_s": 0}, {"token_rate_per_s": "fast"},
                                  {"penalty_s": -1}, {"rate_per_s": True}])
def test_bad_limits_are_refused_and_change_nothing(body) -> None:
    server = start_emulator(rate_per_s=5, penalty_s=2.0)
    try:
        response = httpx.post(f"{server.url}/_admin/limits", json={"penalty_s": 9, **body})
        assert response.status_code == 422
        assert httpx.post(f"{server.url}/_admin/limits", json={}).json() == {
            "rate_per_s": 5, "token_rate_per_s": 10_000, "penalty_s": 2.0}
    finally:
        server.stop()

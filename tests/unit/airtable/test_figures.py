"""The Airtable domain's dashboard figures, read from a real Redis the budget and cache wrote."""

from __future__ import annotations

import time

import pytest
import redis

from common.settings import AirtableSettings
from domains.airtable.budget import RequestBudget, token_digest
from domains.airtable.cache import ReadCache
from domains.airtable.errors import BasePaused
from domains.airtable.figures import AirtableFigures

NS = "hookstream"


def as_dict(figures):
    return {(f.name, f.labels, f.merge): f.value for f in figures}


def test_counters_and_budget_use_in_one_round_trip(redis_client: redis.Redis) -> None:
    budget = RequestBudget(redis_client, namespace=NS, token="tok", base_rate_per_s=50,
                           token_rate_per_s=50)
    cache = ReadCache(redis_client, AirtableSettings(), namespace=NS)
    for _ in range(3):
        budget.acquire("appA", max_wait_s=5)
    budget.pause("appA", 30)
    with pytest.raises(BasePaused):
        budget.take("appA", max_wait_s=5)
    cache.put("appA", "tblX", 0, "d", b"[]", ttl_s=60)
    cache.get("appA", "tblX", 0, "d")
    cache.get("appA", "tblX", 0, "other")
    cache.count_uncached()
    sent_by_us = int(time.time() * 1e6) + 1
    source = AirtableFigures(redis_client, NS, base_rate_per_s=50, token_rate_per_s=50,
                             token_id=token_digest("tok"), clock_us=lambda: sent_by_us)

    first = as_dict(source.figures())
    second = as_dict(source.figures())

    def requests(outcome: str) -> tuple[str, tuple[tuple[str, str], ...], str]:
        return ("airtable_requests_total", (("outcome", outcome),), "last")

    base_used = ("airtable_budget_used_ratio", (("scope", "base:appA"),), "max")
    token_used = ("airtable_budget_used_ratio", (("scope", "token"),), "max")
    assert first[("cache_hits_total", (("cache", "airtable"),), "last")] == 1
    assert first[("cache_misses_total", (("cache", "airtable"),), "last")] == 2
    assert {outcome: first[requests(outcome)] for outcome in
            ("granted", "busy", "paused", "throttled", "pauses")} == {
        "granted": 3, "busy": 0, "paused": 1, "throttled": 1, "pauses": 1}
    assert base_used not in first  # the bases come from the previous read
    assert first[token_used] == pytest.approx(3 / 50)
    assert second[base_used] == pytest.approx(3 / 50)
    assert second[token_used] == pytest.approx(3 / 50)


def test_nothing_yet_reports_zeros_and_no_budget_use(redis_client: redis.Redis) -> None:
    found = as_dict(AirtableFigures(redis_client, NS, base_rate_per_s=5,
                                    token_rate_per_s=50).figures())
    assert found[("cache_hits_total", (("cache", "airtable"),), "last")] == 0
    assert not [key for key in found if key[0] == "airtable_budget_used_ratio"]


def test_use_of_a_second_ago_has_left_the_window(redis_client: redis.Redis) -> None:
    budget = RequestBudget(redis_client, namespace=NS, token="tok", base_rate_per_s=5,
                           token_rate_per_s=50)
    budget.acquire("appB", max_wait_s=5)
    later_us = int(time.time() * 1e6) + 1_100_000
    source = AirtableFigures(redis_client, NS, base_rate_per_s=5, token_rate_per_s=50,
                             token_id=token_digest("tok"), clock_us=lambda: later_us)
    source.figures()
    found = as_dict(source.figures())
    assert found[("airtable_budget_used_ratio", (("scope", "base:appB"),), "max")] == 0
    assert found[("airtable_budget_used_ratio", (("scope", "token"),), "max")] == 0

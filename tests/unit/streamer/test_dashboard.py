"""The dashboard's figures across processes, on a real Valkey."""

import pytest
import redis
import redis.asyncio

from common import reports
from streamer import keys
from streamer.dashboard import STALE_AFTER_S, Aggregator, Reporter, summed, summed_numbers

NS = "hookstream"


def figures(connections, deliveries, *, topic="a/#", subject="u1"):
    return lambda: {"connections": connections, "by_topic": {topic: connections},
                    "by_subject": {subject: connections}, "events_per_s": 10.0,
                    "deliveries": deliveries, "drops": 1, "closes": {"client_gone": 2}}


@pytest.mark.anyio
async def test_every_live_process_is_summed_and_a_silent_one_drops_out(redis_url):
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        one = Reporter(client, NS, figures(3, 100), process_id="p1")
        two = Reporter(client, NS, figures(2, 50, topic="b/+", subject="u2"), process_id="p2")
        await one.report(1000.0)
        await one.report(1001.0)  # +0 deliveries in 1 s
        await two.report(1000.5)
        aggregator = Aggregator(client, NS, queues=["deliveries"], sources=["demo"])
        snapshot = await aggregator.snapshot(1001.5)
        assert snapshot["processes"] == 2
        assert snapshot["connections"] == 5
        assert snapshot["by_topic"] == {"a/#": 3, "b/+": 2}
        assert snapshot["by_subject"] == {"u1": 3, "u2": 2}
        assert snapshot["closes"] == {"client_gone": 4}
        assert snapshot["drops"] == 2
        assert snapshot["events_per_s"] == 10.0  # the log's rate, not a sum
        later = await aggregator.snapshot(1000.5 + STALE_AFTER_S + 0.1)  # p2 went silent
        assert later["processes"] == 1
        await one.withdraw()
        assert (await aggregator.snapshot(1002.0))["processes"] == 0
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_queues_dead_letters_and_webhook_counters_are_read(redis_url):
    sync = redis.Redis.from_url(redis_url)
    sync.rpush(keys.queue_depth_key(NS, "deliveries"), "m1", "m2")
    sync.zadd(keys.dead_letters_key(NS, "deliveries"), {"m0": 1})
    sync.hset(keys.webhook_stats_key("demo"), mapping={"received": 5, "accepted": 4,
                                                       "rejected:bad_signature": 1})
    sync.close()
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        aggregator = Aggregator(client, NS, queues=["deliveries", "periodic"], sources=["demo"])
        snapshot = await aggregator.snapshot(1000.0)
    finally:
        await client.aclose()
    assert snapshot["queues"] == {"deliveries": {"depth": 2, "dead_letters": 1},
                                  "periodic": {"depth": 0, "dead_letters": 0}}
    assert snapshot["webhooks"] == {"demo": {"received": 5, "accepted": 4,
                                             "rejected:bad_signature": 1}}


@pytest.mark.anyio
async def test_other_kinds_reported_from_blocking_clients_are_summed(redis_url):
    sync = redis.Redis.from_url(redis_url)
    reports.report(sync, NS, "airtable", "a1", {"budget_used": 3, "label": "x"}, now_s=1000.0)
    reports.report(sync, NS, "airtable", "a2", {"budget_used": 2.5}, now_s=1000.0)
    reports.report(sync, NS, "sqlwatch", "s1", {"lag_s": 0.2}, now_s=990.0)  # silent since
    sync.close()
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        snapshot = await Aggregator(client, NS, queues=[], sources=[]).snapshot(1000.5)
    finally:
        await client.aclose()
    assert snapshot["others"] == {"airtable": {"processes": 2, "budget_used": 5.5},
                                  "sqlwatch": {"processes": 0}}
    assert snapshot["processes"] == 0  # no streamer reported


def test_other_figures_sum_numbers_only():
    assert summed_numbers([{"a": 1, "ok": True, "name": "n"}, {"a": 2}]) == {"processes": 2,
                                                                             "a": 3}


def test_rates_are_summed_and_nothing_reporting_is_zero():
    assert summed([])["connections"] == 0
    total = summed([{"deliveries_per_s": 1.5}, {"deliveries_per_s": 2.0}])
    assert total["deliveries_per_s"] == 3.5


@pytest.mark.anyio
async def test_no_admin_token_configured_means_no_dashboard(make_settings, redis_url):
    import httpx

    from streamer.app import create_app

    app = create_app(make_settings(), client=redis.asyncio.Redis.from_url(redis_url))
    transport = httpx.ASGITransport(app=app.routes)  # no lifespan: no Redis used before 404
    async with httpx.AsyncClient(transport=transport, base_url="http://streamer") as client:
        assert (await client.get("/dashboard")).status_code == 404
        reply = await client.get("/dashboard/events")
    assert reply.json()["error"]["code"] == "not_found"

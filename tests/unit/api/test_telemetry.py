"""The ingress reports the per-source counters every ingress process shares."""

import pytest

from api.stats import MemoryStats
from api.telemetry import IngressFigures


@pytest.mark.anyio
async def test_counters_become_shared_figures_and_rejections_get_a_reason():
    stats = MemoryStats()
    await stats.count("demo", "accepted")
    await stats.count("demo", "rejected:bad_signature")
    found = {(f.name, f.labels, f.merge): f.value for f in await IngressFigures(
        ["demo", "quiet"], stats)()}
    assert found == {
        ("ingress_webhooks_total", (("outcome", "received"), ("source", "demo")), "last"): 2.0,
        ("ingress_webhooks_total", (("outcome", "accepted"), ("source", "demo")), "last"): 1.0,
        ("ingress_rejections_total", (("reason", "bad_signature"), ("source", "demo")),
         "last"): 1.0,
    }


@pytest.mark.anyio
async def test_the_ingress_reports_the_airtable_counters_when_airtable_is_on(
        make_settings, redis_url, redis_client):
    from api.app import airtable_figures, reporting
    from common.redis import connect_async

    redis_client.hset("hookstream:{airtable}:stats", mapping={"cache_hits": 3, "granted:appA": 2})
    assert airtable_figures(make_settings(), redis_client) is None
    settings = make_settings(airtable={"token": "test-token"})
    client = connect_async(redis_url)
    reporter = reporting(settings, client, MemoryStats(),
                         airtable=airtable_figures(settings, redis_client))
    found = {(f.name, f.labels): f.value for f in await reporter.telemetry.figures_async()}
    await client.aclose()
    assert found[("cache_hits_total", (("cache", "airtable"),))] == 3
    assert found[("airtable_requests_total", (("outcome", "granted"),))] == 2

"""``GET /metrics``: the shared per-source counters and the queue backlog, as Prometheus."""

import pytest
from falcon import testing
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.metrics import families, render
from api.queue import MemoryQueue
from api.stats import MemoryStats

pytestmark = pytest.mark.anyio


def samples(text):
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_outcomes_add_up_to_received_and_rejections_keep_their_reason():
    counts = {"shop": {"received": 9, "accepted": 4, "duplicates": 2, "filtered": 1,
                       "rejected:bad_signature": 1, "rejected:rate_limited": 1}}
    found = samples(render(families(counts, "deliveries", 7)).decode())
    assert found[("hookstream_ingress_webhooks_received_total", (("source", "shop"),))] == 9
    outcomes = {dict(labels)["outcome"]: value for (name, labels), value in found.items()
                if name == "hookstream_ingress_webhooks_total"}
    assert outcomes == {"accepted": 4, "duplicate": 2, "filtered": 1, "rejected": 2}
    assert sum(outcomes.values()) == 9
    rejected = {dict(labels)["reason"]: value for (name, labels), value in found.items()
                if name == "hookstream_ingress_webhooks_rejected_total"}
    assert rejected == {"bad_signature": 1, "rate_limited": 1}
    assert found[("hookstream_queue_messages", (("queue", "deliveries"),))] == 7


class BrokenStats(MemoryStats):
    async def read(self, source):
        raise ConnectionError("redis down")


@pytest.mark.parametrize("broken", [False, True])
async def test_metrics_endpoint_reads_every_source_or_answers_503(make_settings, broken):
    queue, stats = MemoryQueue(), BrokenStats() if broken else MemoryStats()
    await stats.count("demo", "rejected:bad_signature")

    async def backlog():
        return 3

    app = create_app(make_settings(), queue=queue, stats=stats, publisher=None, ping=None,
                     backlog=backlog)
    async with testing.ASGIConductor(app) as client:
        result = await client.simulate_get("/metrics")
    if broken:
        assert result.status_code == 503 and result.headers["Retry-After"]
        assert result.json["error"]["code"] == "unavailable"
        return
    assert result.status_code == 200
    assert result.headers["Content-Type"].startswith("text/plain; version=")
    found = samples(result.text)
    assert found[("hookstream_ingress_webhooks_rejected_total",
                  (("reason", "bad_signature"), ("source", "demo")))] == 1
    assert found[("hookstream_queue_messages", (("queue", "deliveries"),))] == 3

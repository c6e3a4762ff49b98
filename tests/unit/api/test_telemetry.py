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

"""The SQLite trips demo: the page, selling a ticket, and the seat count's event."""

from __future__ import annotations

import pytest
from falcon import testing

from api.app import create_app
from api.queue import MemoryQueue
from api.stats import MemoryStats
from common.publishing import EventLog
from common.settings import WatchSettings
from domains.sqlwatch import demo
from domains.sqlwatch.snapshots import RedisSnapshots
from tests.unit.sqlwatch.conftest import NAMESPACE, make_harness

pytestmark = pytest.mark.anyio


async def test_selling_a_ticket_lowers_the_seat_count_live(make_settings, tmp_path, redis_client):
    import tomllib
    watch = tomllib.loads(demo.demo_watch_toml(tmp_path / "demo.db"))["watches"][demo.WATCH]
    settings = make_settings(watches={demo.WATCH: watch},
                             streamer={"public_topics": ["demo/#"]})
    config: WatchSettings = settings.watches[demo.WATCH]
    demo.prepare(config)
    demo.prepare(config)  # idempotent: no second set of trips
    harness = make_harness(demo.WATCH, config, redis_client)
    harness.pump()

    async def ok():
        return True

    app = create_app(settings, queue=MemoryQueue(), stats=MemoryStats(),
                     publisher=EventLog(redis_client, settings.events), ping=ok, backlog=ok,
                     snapshots=RedisSnapshots(redis_client, settings.watches,
                                              namespace=NAMESPACE, events=settings.events))
    async with testing.ASGIConductor(app) as client:
        page = await client.simulate_get("/sql/demo")
        assert page.status_code == 200 and b"EventSource" in page.content
        snapshot = await client.simulate_get("/sql/demo-trips/snapshot",
                                             params={"topic": "demo/trips/company/1"})
        assert [row["seats_left"] for row in snapshot.json["rows"]] == [40, 18]
        sold = await client.simulate_post("/sql/demo/sell", params={"trip": "2"})
        assert sold.json == {"trip": 2, "seats_left": 17}
        for _ in range(17):
            await client.simulate_post("/sql/demo/sell", params={"trip": "2"})
        sold_out = await client.simulate_post("/sql/demo/sell", params={"trip": "2"})
        assert sold_out.status_code == 409
    harness.pump()
    events = harness.events()
    assert len(events) == 18
    assert events[0]["topic"] == "demo/trips/company/1"
    assert events[0]["data"]["fields"] == {"seats_left": 17}

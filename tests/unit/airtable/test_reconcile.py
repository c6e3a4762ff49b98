"""Full table reconciliation against the emulator: drift published once, snapshot stored."""

from __future__ import annotations

import pytest

from common.events import Event
from common.publishing import EventLog
from common.settings import EventLogSettings
from domains.airtable.errors import Gone
from domains.airtable.reconcile import Reconciler
from tests.airtable_support import DEMO_BASE, DEMO_TABLE

NS = "hookstream"


@pytest.fixture
def reconciler(redis_client, api) -> Reconciler:
    return Reconciler(redis_client, EventLog(redis_client, EventLogSettings()), lambda: api,
                      namespace=NS)


def events(redis_client) -> list[Event]:
    return [Event.from_fields(f) for _, f in redis_client.xrange(EventLogSettings().stream_key)]


def test_first_run_publishes_every_record_then_only_the_drift(reconciler, api,
                                                              redis_client) -> None:
    first = reconciler.run(DEMO_BASE, "Tasks")
    assert (first.records, first.count("created"), first.published) == (3, 3, 3)
    table = api.table(DEMO_BASE, "Tasks")
    table.update("recTask0000000001", {"Owner": "Ada L."})
    table.delete("recTask0000000003")
    new = table.create({"Name": "Drifted"})
    pages: list[int] = []
    second = reconciler.run(DEMO_BASE, DEMO_TABLE, progress=pages.append)
    assert sum(pages) == 3
    assert (second.count("created"), second.count("updated"), second.count("deleted")) == (1, 1, 1)
    by_type = {e.type: e for e in events(redis_client)[3:]}
    assert by_type["record.updated"].data["fields"] == {"Owner": "Ada L."}
    assert by_type["record.updated"].data["previous"] == {"Owner": "Ada"}
    assert by_type["record.created"].data["record"] == new["id"]
    assert by_type["record.deleted"].data["previous"]["Name"] == "Cache the reads"
    assert reconciler.run(DEMO_BASE, "Tasks").published == 0  # no drift, nothing published


def test_no_publish_stores_a_baseline(reconciler, redis_client) -> None:
    drift = reconciler.run(DEMO_BASE, "Tasks", publish=False)
    assert drift.published == 0 and events(redis_client) == []
    assert len(reconciler.snapshot.records(DEMO_BASE, DEMO_TABLE)) == 3


def test_the_same_drift_twice_publishes_once(reconciler, redis_client) -> None:
    reconciler.run(DEMO_BASE, "Tasks")
    reconciler.snapshot.replace(DEMO_BASE, DEMO_TABLE, {})  # as if the snapshot write was lost
    assert reconciler.run(DEMO_BASE, "Tasks").published == 0
    assert len(events(redis_client)) == 3


def test_an_unknown_table_is_gone(reconciler) -> None:
    with pytest.raises(Gone):
        reconciler.run(DEMO_BASE, "Nope")


def test_live_changes_keep_the_snapshot_so_sync_finds_no_drift(reconciler, redis_client, api,
                                                               emulator) -> None:
    from domains.airtable.sync import ChangeSync
    from tests.airtable_support import admin

    reconciler.run(DEMO_BASE, "Tasks", publish=False)
    hook = api.base(DEMO_BASE).add_webhook("http://127.0.0.1:9/x", {"options": {
        "filters": {"dataTypes": ["tableData"]}, "includes": {"includePreviousCellValues": True}}})
    admin(emulator.url, "POST", f"/bases/{DEMO_BASE}/changes", {
        "table": "Tasks", "ping": False, "create": [{"fields": {"Name": "live"}}],
        "update": [{"id": "recTask0000000001", "fields": {"Owner": None, "Points": 4}}],
        "delete": ["recTask0000000002"]})
    sync = ChangeSync(redis_client, EventLog(redis_client, EventLogSettings()), lambda: api,
                      namespace=NS)
    assert sync.on_ping(DEMO_BASE, hook.id).published == 3
    drift = reconciler.run(DEMO_BASE, "Tasks")
    assert drift.changes == {}

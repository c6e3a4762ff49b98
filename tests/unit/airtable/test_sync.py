"""The change sync against the emulator (real HTTP) and a real Redis event log."""

from __future__ import annotations

import threading

import orjson
import pytest
from pyairtable import Api

from common.events import Event
from common.publishing import EventLog
from common.settings import EventLogSettings
from domains.airtable.keys import cursor_key, stats_key, table_generation_key
from domains.airtable.payloads import Transaction
from domains.airtable.sync import ChangeSync, LeaseBusy
from tests.airtable_support import DEMO_BASE, DEMO_TABLE, admin

SPEC = {"options": {"filters": {"dataTypes": ["tableData"], "recordChangeScope": DEMO_TABLE},
                    "includes": {"includePreviousCellValues": True}}}
NS = "hookstream"


@pytest.fixture
def log(redis_client) -> EventLog:
    return EventLog(redis_client, EventLogSettings())


@pytest.fixture
def webhook(api: Api) -> str:
    return api.base(DEMO_BASE).add_webhook("http://127.0.0.1:9/unused", SPEC).id


@pytest.fixture
def sync(redis_client, log, api) -> ChangeSync:
    return ChangeSync(redis_client, log, lambda: api, namespace=NS)


def events(redis_client) -> list[Event]:
    return [Event.from_fields(fields)
            for _, fields in redis_client.xrange(EventLogSettings().stream_key)]


def change(url: str, **body) -> dict:
    return admin(url, "POST", f"/bases/{DEMO_BASE}/changes",
                 {"table": "Tasks", "ping": False, **body})


def test_a_persons_update_becomes_one_event_with_only_the_changed_fields(
        emulator, sync, webhook, redis_client) -> None:
    change(emulator.url, update=[{"id": "recTask0000000002",
                                  "fields": {"Status": "Done", "Owner": "Grace"}}])
    result = sync.on_ping(DEMO_BASE, webhook)
    assert result.published == 1
    (event,) = events(redis_client)
    assert event.type == "record.updated"
    assert event.topic == f"airtable/{DEMO_BASE}/{DEMO_TABLE}/recTask0000000002"
    assert event.data == {"base": DEMO_BASE, "table": DEMO_TABLE, "record": "recTask0000000002",
                          "fields": {"Status": "Done"}, "previous": {"Status": "Doing"}}
    assert event.id == f"at:{webhook}:1:recTask0000000002"
    assert int(redis_client.get(cursor_key(NS, webhook))) == 2


def test_created_and_deleted_records(emulator, sync, webhook, redis_client) -> None:
    created = change(emulator.url, create=[{"fields": {"Name": "New", "Points": 4}}])
    record_id = created["created"][0]["id"]
    change(emulator.url, delete=[record_id])
    sync.on_ping(DEMO_BASE, webhook)
    first, second = events(redis_client)
    assert first.type == "record.created"
    assert first.data["fields"] == {"Name": "New", "Points": 4} and first.data["previous"] == {}
    assert second.type == "record.deleted" and second.data["record"] == record_id
    assert second.data["fields"] == {}
    assert second.data["previous"] == {"Name": "New", "Points": 4}  # from the snapshot


def test_split_payloads_of_one_transaction_publish_once_per_record(
        emulator, sync, webhook, redis_client, api) -> None:
    change(emulator.url, create=[{"fields": {"Name": f"n{i}"}} for i in range(4)],
           update=[{"id": "recTask0000000001", "fields": {"Points": 9}}], split=3)
    assert len(list(api.base(DEMO_BASE).webhook(webhook).payloads())) == 3
    result = sync.on_ping(DEMO_BASE, webhook)
    assert result.transactions == 1 and result.published == 5
    assert {e.id.split(":")[2] for e in events(redis_client)} == {"1"}
    assert int(redis_client.get(cursor_key(NS, webhook))) == 4


def test_merging_one_records_changes_across_payloads() -> None:
    transaction = Transaction(7, "", 0)
    transaction.add({"changedTablesById": {"tbl1": {"changedRecordsById": {"rec1": {
        "current": {"cellValuesByFieldId": {"fldA": 2}},
        "previous": {"cellValuesByFieldId": {"fldA": 1}}}}}}})
    transaction.add({"changedTablesById": {"tbl1": {
        "changedRecordsById": {"rec1": {
            "current": {"cellValuesByFieldId": {"fldA": 3, "fldB": "x"}},
            "previous": {"cellValuesByFieldId": {"fldA": 2, "fldB": None}}}},
        "createdRecordsById": {"rec2": {"cellValuesByFieldId": {"fldA": 5}}},
        "destroyedRecordIds": ["rec3"]}}})
    transaction.add({"changedTablesById": {"tbl1": {"destroyedRecordIds": ["rec2"]}}})
    records = transaction.tables["tbl1"]
    assert records["rec1"].current == {"fldA": 3, "fldB": "x"}
    assert records["rec1"].previous == {"fldA": 1, "fldB": None}
    assert "rec2" not in records  # created and destroyed in one transaction
    assert records["rec3"].kind == "deleted"


def test_pings_repeated_or_replayed_publish_nothing_twice(emulator, sync, webhook,
                                                          redis_client) -> None:
    change(emulator.url, update=[{"id": "recTask0000000003", "fields": {"Points": 1}}])
    assert sync.on_ping(DEMO_BASE, webhook).published == 1
    assert sync.on_ping(DEMO_BASE, webhook).published == 0
    redis_client.delete(cursor_key(NS, webhook))  # as if the cursor write had been lost
    replay = sync.on_ping(DEMO_BASE, webhook)
    assert (replay.published, replay.duplicates) == (0, 1)
    assert len(events(redis_client)) == 1


def test_racing_pings_publish_each_change_once(emulator, sync, webhook, redis_client,
                                               log, api) -> None:
    for points in range(6):
        change(emulator.url, update=[{"id": "recTask0000000001", "fields": {"Points": points}}])
    outcomes: list[object] = []

    def ping() -> None:
        other = ChangeSync(redis_client, log, lambda: api, namespace=NS)
        try:
            outcomes.append(other.on_ping(DEMO_BASE, webhook).published)
        except LeaseBusy as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=ping) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sync.on_ping(DEMO_BASE, webhook)  # a retried job after the race: nothing left
    published = events(redis_client)
    assert len(published) == 6 == len({e.id for e in published})
    assert sum(o for o in outcomes if isinstance(o, int)) == 6


def test_a_field_the_schema_cache_does_not_know_refreshes_it(emulator, sync, webhook,
                                                             redis_client) -> None:
    change(emulator.url, update=[{"id": "recTask0000000001", "fields": {"Points": 1}}])
    sync.on_ping(DEMO_BASE, webhook)  # the schema is cached now
    admin(emulator.url, "POST", f"/bases/{DEMO_BASE}/tables/Tasks/fields",
          {"name": "Priority", "type": "singleLineText"})
    change(emulator.url, update=[{"id": "recTask0000000001", "fields": {"Priority": "high"}}])
    sync.on_ping(DEMO_BASE, webhook)
    assert events(redis_client)[-1].data["fields"] == {"Priority": "high"}


def test_a_change_bumps_the_tables_cache_generation(emulator, sync, webhook,
                                                    redis_client) -> None:
    key = table_generation_key(NS, DEMO_BASE, DEMO_TABLE)
    before = int(redis_client.get(key) or 0)
    change(emulator.url, update=[{"id": "recTask0000000001", "fields": {"Points": 1}}])
    sync.on_ping(DEMO_BASE, webhook)
    assert int(redis_client.get(key)) == before + 1
    assert int(redis_client.hget(stats_key(NS), "sync_events")) == 1


def test_many_transactions_follow_might_have_more(emulator, sync, webhook, redis_client) -> None:
    for points in range(60):  # more than one page of 50 payloads
        change(emulator.url, update=[{"id": "recTask0000000001", "fields": {"Points": points}}])
    result = sync.on_ping(DEMO_BASE, webhook)
    assert result.transactions == 60 and len(events(redis_client)) == 60
    assert [orjson.loads(orjson.dumps(e.data))["fields"]["Points"]
            for e in events(redis_client)][-1] == 59


def test_a_held_lease_makes_the_ping_retry_later(sync, webhook, redis_client) -> None:
    other = sync.lease(webhook)
    assert other.acquire()
    with pytest.raises(LeaseBusy) as caught:
        sync.on_ping(DEMO_BASE, webhook)
    assert 0 < caught.value.retry_after_s <= 15


def test_a_cleared_cell_left_out_of_current_is_reported_as_none() -> None:
    from domains.airtable.changes import changed_only
    from domains.airtable.payloads import RecordChange

    change = RecordChange("updated", {"fldA": 2, "fldC": 5},
                          {"fldA": 1, "fldB": "gone", "fldC": 5})
    assert changed_only(change) == ({"fldA": 2, "fldB": None}, {"fldA": 1, "fldB": "gone"})

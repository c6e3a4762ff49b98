"""The emulator's webhooks: create/list/refresh/delete, payload cursors, signed pings."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from pyairtable import Api
from pyairtable.models import WebhookNotification
from requests import HTTPError

from api.verifiers.airtable import AirtableVerifier
from tests.airtable_support import DEMO_BASE, DEMO_TABLE, admin

SPEC = {"options": {"filters": {"dataTypes": ["tableData"], "recordChangeScope": DEMO_TABLE},
                    "includes": {"includePreviousCellValues": True}}}


def change(url: str, **body) -> dict:
    return admin(url, "POST", f"/bases/{DEMO_BASE}/changes", {"table": "Tasks", **body})


def test_create_answers_id_secret_and_a_seven_day_expiry(api: Api, receiver) -> None:
    created = api.base(DEMO_BASE).add_webhook(receiver.url, SPEC)
    assert created.id.startswith("ach") and base64.b64decode(created.mac_secret_base64)
    lifetime = created.expiration_time - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < lifetime <= timedelta(days=7)
    (listed,) = api.base(DEMO_BASE).webhooks()
    assert listed.id == created.id and listed.notification_url == receiver.url
    assert listed.cursor_for_next_payload == 1 and listed.is_hook_enabled


def test_a_change_by_a_person_pings_signed_and_leaves_a_payload(emulator, api: Api,
                                                                 receiver) -> None:
    created = api.base(DEMO_BASE).add_webhook(receiver.url, SPEC)
    change(emulator.url, update=[{"id": "recTask0000000002", "fields": {"Status": "Done"}}])
    ping = receiver.next()
    AirtableVerifier([created.mac_secret_base64]).verify(ping.body, ping.headers)
    notification = WebhookNotification.from_request(
        ping.body.decode(), ping.headers["x-airtable-content-mac"], created.mac_secret_base64)
    assert notification.base.id == DEMO_BASE and notification.webhook.id == created.id
    (payload,) = api.base(DEMO_BASE).webhook(created.id).payloads()
    assert payload.action_metadata.source == "client"
    changed = payload.changed_tables_by_id[DEMO_TABLE].changed_records_by_id["recTask0000000002"]
    assert changed.current.cell_values_by_field_id == {"fldTaskStatus0001": "Done"}
    assert changed.previous.cell_values_by_field_id == {"fldTaskStatus0001": "Doing"}


def test_api_writes_leave_created_changed_and_destroyed_payloads(emulator, api: Api,
                                                                 receiver) -> None:
    created = api.base(DEMO_BASE).add_webhook(receiver.url, SPEC)
    table = api.table(DEMO_BASE, "Tasks")
    record = table.create({"Name": "fresh"})
    table.update(record["id"], {"Points": 2})
    table.delete(record["id"])
    payloads = list(api.base(DEMO_BASE).webhook(created.id).payloads())
    assert [p.base_transaction_number for p in payloads] == [1, 2, 3]
    assert [p.cursor for p in payloads] == [1, 2, 3]
    tables = [p.changed_tables_by_id[DEMO_TABLE] for p in payloads]
    assert tables[0].created_records_by_id[record["id"]].cell_values_by_field_id == {
        "fldTaskName000001": "fresh"}
    assert payloads[0].action_metadata.source == "publicApi"
    assert record["id"] in tables[1].changed_records_by_id
    assert tables[2].destroyed_record_ids == [record["id"]]


def test_payloads_page_by_cursor_and_limit_with_might_have_more(emulator, api: Api) -> None:
    created = api.base(DEMO_BASE).add_webhook("http://127.0.0.1:9/unused", SPEC)
    for points in range(5):
        change(emulator.url, update=[{"id": "recTask0000000001", "fields": {"Points": points}}],
               ping=False)
    page = api.get(api.build_url(f"bases/{DEMO_BASE}/webhooks/{created.id}/payloads"),
                   params={"cursor": 2, "limit": 2})
    assert [p["baseTransactionNumber"] for p in page["payloads"]] == [2, 3]
    assert page["cursor"] == 4 and page["mightHaveMore"] is True
    last = api.get(api.build_url(f"bases/{DEMO_BASE}/webhooks/{created.id}/payloads"),
                   params={"cursor": 4})
    assert len(last["payloads"]) == 2 and last["cursor"] == 6 and not last["mightHaveMore"]


def test_a_split_transaction_shares_its_number(emulator, api: Api) -> None:
    created = api.base(DEMO_BASE).add_webhook("http://127.0.0.1:9/unused", SPEC)
    change(emulator.url, create=[{"fields": {"Name": f"n{i}"}} for i in range(4)],
           delete=["recTask0000000003"], split=3, ping=False)
    payloads = list(api.base(DEMO_BASE).webhook(created.id).payloads())
    assert len(payloads) == 3
    assert {p.base_transaction_number for p in payloads} == {1}
    created_ids = [rid for p in payloads
                   for rid in p.changed_tables_by_id[DEMO_TABLE].created_records_by_id]
    assert len(created_ids) == 4


def test_refresh_extends_and_a_moved_clock_expires(emulator, api: Api) -> None:
    created = api.base(DEMO_BASE).add_webhook("http://127.0.0.1:9/unused", SPEC)
    admin(emulator.url, "POST", "/clock", {"advance_s": 6 * 86_400})
    hook = api.base(DEMO_BASE).webhook(created.id)
    hook.extend_expiration()
    refreshed = api.base(DEMO_BASE).webhook(created.id).expiration_time
    assert refreshed - created.expiration_time > timedelta(days=5, hours=23)
    admin(emulator.url, "POST", "/clock", {"advance_s": 7 * 86_400 + 1})
    assert api.base(DEMO_BASE).webhooks() == []
    assert admin(emulator.url, "GET", "/webhooks/expired")["expired"] == [
        {"base": DEMO_BASE, "webhook": created.id}]
    with pytest.raises(HTTPError) as caught:
        hook.extend_expiration()
    assert caught.value.response.status_code == 404


def test_admin_expire_and_delete(emulator, api: Api) -> None:
    first = api.base(DEMO_BASE).add_webhook("http://127.0.0.1:9/a", SPEC)
    second = api.base(DEMO_BASE).add_webhook("http://127.0.0.1:9/b", SPEC)
    admin(emulator.url, "POST", f"/bases/{DEMO_BASE}/webhooks/{first.id}/expire")
    api.base(DEMO_BASE).webhook(second.id).delete()
    assert api.base(DEMO_BASE).webhooks() == []


def test_ping_history_and_a_fresh_ping_on_demand(emulator, api: Api, receiver) -> None:
    created = api.base(DEMO_BASE).add_webhook(receiver.url, SPEC)
    admin(emulator.url, "POST", f"/bases/{DEMO_BASE}/webhooks/{created.id}/ping")
    ping = receiver.next()
    (sent,) = admin(emulator.url, "GET", f"/bases/{DEMO_BASE}/webhooks/{created.id}/pings")[
        "pings"]
    assert sent["body"].encode() == ping.body and sent["status"] == 200
    assert orjson.loads(ping.body)["webhook"]["id"] == created.id
    (listed,) = api.base(DEMO_BASE).webhooks()
    assert listed.last_notification_result.success is True


def test_a_scoped_webhook_ignores_other_tables(emulator, api: Api) -> None:
    created = api.base(DEMO_BASE).add_webhook("http://127.0.0.1:9/unused", SPEC)
    other = admin(emulator.url, "POST", f"/bases/{DEMO_BASE}/tables",
                  {"name": "Notes", "fields": [{"name": "Text"}]})
    api.table(DEMO_BASE, other["id"]).create({"Text": "x"})
    assert list(api.base(DEMO_BASE).webhook(created.id).payloads()) == []
    api.table(DEMO_BASE, "Tasks").create({"Name": "y"})
    assert len(list(api.base(DEMO_BASE).webhook(created.id).payloads())) == 1

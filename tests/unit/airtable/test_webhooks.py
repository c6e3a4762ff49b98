"""Webhook lifecycle against the emulator, and the verifier reading the stored secrets."""

from __future__ import annotations

import pytest

from api.verifiers.airtable import AirtableVerifier
from api.verifiers.base import InvalidSignature
from common.settings import Settings
from domains.airtable.errors import Gone
from domains.airtable.webhooks import Webhooks, WebhookSecrets
from tests.airtable_support import DEMO_BASE, DEMO_TABLE, admin

NS = "hookstream"


@pytest.fixture
def webhooks(redis_client, api) -> Webhooks:
    return Webhooks(redis_client, lambda: api, namespace=NS)


def test_create_stores_the_secret_and_the_verifier_accepts_its_pings(
        emulator, webhooks, receiver, redis_client) -> None:
    hook = webhooks.create(DEMO_BASE, receiver.url, table=DEMO_TABLE)
    assert webhooks.store.get(hook.id) == hook
    admin(emulator.url, "POST", f"/bases/{DEMO_BASE}/webhooks/{hook.id}/ping")
    ping = receiver.next()
    verifier = AirtableVerifier([], stored=WebhookSecrets(webhooks.store))
    verified = verifier.verify(ping.body, ping.headers)
    assert verified.document["webhook"]["id"] == hook.id
    webhooks.delete(DEMO_BASE, hook.id)
    with pytest.raises(InvalidSignature):
        AirtableVerifier([], stored=WebhookSecrets(webhooks.store)).verify(ping.body,
                                                                          ping.headers)


def test_config_secrets_still_work_beside_the_store(emulator, webhooks, receiver) -> None:
    hook = webhooks.create(DEMO_BASE, receiver.url)
    admin(emulator.url, "POST", f"/bases/{DEMO_BASE}/webhooks/{hook.id}/ping")
    ping = receiver.next()
    webhooks.store.remove(hook.id)
    stored = WebhookSecrets(webhooks.store)
    AirtableVerifier([hook.mac_secret_base64], stored=stored).verify(ping.body, ping.headers)
    with pytest.raises(InvalidSignature):
        AirtableVerifier([], stored=stored).verify(ping.body, ping.headers)


def test_listing_marks_the_webhooks_we_hold_secrets_for(api, webhooks) -> None:
    ours = webhooks.create(DEMO_BASE, "http://127.0.0.1:9/ours")
    theirs = api.base(DEMO_BASE).add_webhook("http://127.0.0.1:9/theirs",
                                             {"options": {"filters": {"dataTypes": ["tableData"]}}})
    listed = {hook["id"]: hook["stored"] for hook in webhooks.listing(DEMO_BASE)}
    assert listed == {ours.id: True, theirs.id: False}


def test_refresh_all_extends_and_reports_expired_ones(emulator, webhooks) -> None:
    kept = webhooks.create(DEMO_BASE, "http://127.0.0.1:9/kept")
    lost = webhooks.create(DEMO_BASE, "http://127.0.0.1:9/lost")
    admin(emulator.url, "POST", f"/bases/{DEMO_BASE}/webhooks/{lost.id}/expire")
    admin(emulator.url, "POST", "/clock", {"advance_s": 6 * 86_400})
    outcomes = webhooks.refresh_all()
    assert outcomes[lost.id] == "gone"
    assert outcomes[kept.id] > kept.expiration_time  # ISO strings sort by time
    assert webhooks.store.get(lost.id) is None and webhooks.store.get(kept.id) is not None
    (problem,) = webhooks.problems()
    assert problem["webhook"] == lost.id and "expired" in problem["reason"]
    assert webhooks.stats()["webhooks_gone"] == 1
    admin(emulator.url, "POST", "/clock", {"advance_s": 6 * 86_400})  # 12 days from creation
    assert webhooks.refresh_all()[kept.id] != "gone"  # refreshed at day 6, alive at day 12


def test_refreshing_an_unknown_webhook_is_gone(webhooks) -> None:
    with pytest.raises(Gone):
        webhooks.refresh(DEMO_BASE, "achUnknown0000000")


def test_an_airtable_source_may_rely_on_stored_secrets_alone() -> None:
    settings = Settings.model_validate({"sources": {"at": {"kind": "airtable"}}})
    assert settings.sources["at"].secrets == []


def test_a_poll_catches_up_a_lost_ping_and_reports_gone_webhooks(emulator, webhooks, api,
                                                                 redis_client) -> None:
    from common.publishing import EventLog
    from common.settings import EventLogSettings
    from domains.airtable.sync import ChangeSync
    from domains.airtable.webhooks import poll_webhooks

    kept = webhooks.create(DEMO_BASE, "http://127.0.0.1:9/kept", table=DEMO_TABLE)
    lost = webhooks.create(DEMO_BASE, "http://127.0.0.1:9/lost", table=DEMO_TABLE)
    busy = webhooks.create(DEMO_BASE, "http://127.0.0.1:9/busy", table=DEMO_TABLE)
    admin(emulator.url, "POST", f"/bases/{DEMO_BASE}/webhooks/{lost.id}/expire")
    admin(emulator.url, "POST", f"/bases/{DEMO_BASE}/changes", {
        "table": "Tasks", "ping": False,
        "update": [{"id": "recTask0000000001", "fields": {"Points": 11}}]})
    sync = ChangeSync(redis_client, EventLog(redis_client, EventLogSettings()), lambda: api,
                      namespace=NS)
    assert sync.lease(busy.id).acquire()
    outcomes = poll_webhooks(sync, webhooks)
    assert outcomes == {kept.id: "ok", lost.id: "gone", busy.id: "busy"}
    assert redis_client.xlen(EventLogSettings().stream_key) == 1
    assert webhooks.store.get(lost.id) is None


def test_create_reuses_a_live_webhook_for_the_same_scope_and_url(emulator, webhooks, api,
                                                                 receiver) -> None:
    first = webhooks.create(DEMO_BASE, receiver.url, table=DEMO_TABLE)
    assert webhooks.create(DEMO_BASE, receiver.url, table=DEMO_TABLE) == first
    other_scope = webhooks.create(DEMO_BASE, receiver.url)
    forced = webhooks.create(DEMO_BASE, receiver.url, table=DEMO_TABLE, reuse=False)
    listed = {hook["id"] for hook in webhooks.listing(DEMO_BASE)}
    assert listed == {first.id, other_scope.id, forced.id}
    for hook_id in listed:  # Airtable forgets them all: the next create makes a new one
        api.request("DELETE", str(api.build_url(f"bases/{DEMO_BASE}/webhooks/{hook_id}")))
    fresh = webhooks.create(DEMO_BASE, receiver.url, table=DEMO_TABLE)
    assert fresh.id not in listed
    assert {hook.id for hook in webhooks.store.all()} == {fresh.id, other_scope.id}


def test_create_does_not_reuse_a_webhook_whose_notifications_are_off(emulator, webhooks, api,
                                                                    receiver) -> None:
    first = webhooks.create(DEMO_BASE, receiver.url, table=DEMO_TABLE)
    api.request("POST", str(api.build_url(
        f"bases/{DEMO_BASE}/webhooks/{first.id}/enableNotifications")), json={"enable": False})
    second = webhooks.create(DEMO_BASE, receiver.url, table=DEMO_TABLE)
    assert second.id != first.id

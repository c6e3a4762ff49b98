"""Write jobs against the emulator over real HTTP and a real Redis: chunks, waits, no doubles."""

from __future__ import annotations

import time

import httpx
import pytest
import redis

from common.publishing import MemoryPublisher
from domains.airtable import keys
from domains.airtable.budget import RequestBudget
from domains.airtable.errors import BasePaused, BudgetBusy, MustWait
from domains.airtable.jobs import JobStore
from domains.airtable.sender import MemorySender
from domains.airtable.services import build_runner
from domains.airtable.write_requests import parse_write
from domains.airtable.writes import WriteRunner
from tests.airtable_support import DEMO_BASE, DEMO_TABLE, admin, start_emulator

NS = "hookstream"


@pytest.fixture
def limited_emulator():
    server = start_emulator(rate_per_s=5, penalty_s=3.0)
    yield server
    server.stop()


def make_runner(redis_url, make_settings, url, *, slice_s=60.0, pause_s=30.0):
    settings = make_settings(airtable={"api_url": url, "token": "test-token",
                                       "pause_after_429_s": pause_s})
    client = redis.Redis.from_url(redis_url)
    publisher = MemoryPublisher()
    return build_runner(client, settings, publisher, slice_s=slice_s), publisher, client


def submit(client, method, doc, *, table="Tasks", key=None) -> str:
    request = parse_write(method, DEMO_BASE, table, doc)
    return JobStore(client, namespace=NS).submit(request, MemorySender(), queue="default",
                                                 idempotency_key=key)


def all_records(url) -> list[dict]:
    records, offset = [], None
    while True:
        params = {"offset": offset} if offset else {}
        page = httpx.get(f"{url}/v0/{DEMO_BASE}/{DEMO_TABLE}", params=params,
                         headers={"Authorization": "Bearer t"}).json()
        records += page["records"]
        offset = page.get("offset")
        if not offset:
            return records


def requests_made(url) -> int:
    return admin(url, "GET", f"/bases/{DEMO_BASE}/stats")["requests"]


def test_a_create_job_is_sent_in_chunks_of_10_and_published(redis_url, make_settings, emulator):
    runner, publisher, client = make_runner(redis_url, make_settings, emulator.url)
    job_id = submit(client, "POST", {"records": [{"fields": {"Name": f"n{i}"}}
                                                 for i in range(25)]})
    before = requests_made(emulator.url)
    summary = runner.run(job_id)
    assert summary["state"] == "completed" and summary["succeeded"] == 25
    assert requests_made(emulator.url) - before == 3 + 1  # 3 chunks + the schema lookup
    names = sorted(r["fields"]["Name"] for r in all_records(emulator.url) if "n" in
                   r["fields"]["Name"][:1])
    assert names == sorted(f"n{i}" for i in range(25))
    (event,) = publisher.events
    assert (event.topic, event.type) == (f"airtable/jobs/{job_id}", "job.completed")
    assert [r["ok"] for r in event.data["records"]] == [True] * 25
    assert runner.run(job_id) is None  # finished jobs are not run again


def test_a_429_pauses_the_base_and_the_job_waits_then_drains(redis_url, make_settings,
                                                             limited_emulator):
    url = limited_emulator.url
    runner, _, client = make_runner(redis_url, make_settings, url, pause_s=1.0)
    for _ in range(6):  # someone else (stock pyairtable, say) exhausts the base
        httpx.get(f"{url}/v0/{DEMO_BASE}/{DEMO_TABLE}", headers={"Authorization": "Bearer t"})
    job_id = submit(client, "POST", {"records": [{"fields": {"Name": "late"}}]},
                    table=DEMO_TABLE)
    with pytest.raises(BasePaused) as waiting:
        runner.run(job_id)
    assert 2 <= waiting.value.retry_after_s <= 3  # Retry-After, longer than pause_after_429_s
    assert client.pttl(keys.base_pause_key(NS, DEMO_BASE)) > 0
    state = JobStore(client, namespace=NS).describe(job_id)
    assert state["state"] == "waiting" and state["retry_at_ms"] > time.time() * 1000
    throttled_requests = requests_made(url)
    with pytest.raises(BasePaused):
        runner.run(job_id)  # paused: not even sent
    assert requests_made(url) == throttled_requests
    time.sleep(waiting.value.retry_after_s + 0.1)
    assert runner.run(job_id)["state"] == "completed"
    assert [r["fields"]["Name"] for r in all_records(url)].count("late") == 1


def test_a_chunk_in_doubt_that_was_created_is_not_created_again(redis_url, make_settings,
                                                                emulator):
    runner, _, client = make_runner(redis_url, make_settings, emulator.url)
    store = JobStore(client, namespace=NS)
    doc = {"records": [{"fields": {"Name": f"d{i}", "Points": i}} for i in range(12)]}
    job_id = submit(client, "POST", doc)
    # A worker marked chunk 0 as sending, Airtable created its 10 records, the worker died.
    store.mark_sending(job_id, 0, send=list(range(10)), since_ms=int(time.time() * 1000))
    httpx.post(f"{emulator.url}/v0/{DEMO_BASE}/{DEMO_TABLE}",
               headers={"Authorization": "Bearer t"},
               json={"records": doc["records"][:10]}).raise_for_status()
    # An identical record made long before the chunk is not taken for ours.
    summary = runner.run(job_id)
    assert summary["state"] == "completed"
    names = [r["fields"]["Name"] for r in all_records(emulator.url)]
    assert sorted(n for n in names if n.startswith("d")) == sorted(f"d{i}" for i in range(12))
    ids = [r["id"] for r in store.describe(job_id)["records"]]
    assert len(set(ids)) == 12


def test_a_chunk_in_doubt_that_never_arrived_is_created(redis_url, make_settings, emulator):
    runner, _, client = make_runner(redis_url, make_settings, emulator.url)
    store = JobStore(client, namespace=NS)
    job_id = submit(client, "POST", {"records": [{"fields": {"Name": "lost", "Points": 1}},
                                                 {"fields": {"Name": "lost", "Points": 1}}]})
    store.mark_sending(job_id, 0, send=[0, 1], since_ms=int(time.time() * 1000))
    assert runner.run(job_id)["succeeded"] == 2
    assert [r["fields"]["Name"] for r in all_records(emulator.url)].count("lost") == 2


def test_two_identical_records_half_created_are_matched_one_to_one(redis_url, make_settings,
                                                                   emulator):
    runner, _, client = make_runner(redis_url, make_settings, emulator.url)
    store = JobStore(client, namespace=NS)
    twin = {"fields": {"Name": "twin"}}
    job_id = submit(client, "POST", {"records": [twin, twin, twin]})
    store.mark_sending(job_id, 0, send=[0, 1, 2], since_ms=int(time.time() * 1000))
    httpx.post(f"{emulator.url}/v0/{DEMO_BASE}/{DEMO_TABLE}",
               headers={"Authorization": "Bearer t"}, json={"records": [twin]})
    runner.run(job_id)
    assert [r["fields"]["Name"] for r in all_records(emulator.url)].count("twin") == 3


def test_expect_conflicts_fail_alone_with_current_values(redis_url, make_settings, emulator):
    runner, publisher, client = make_runner(redis_url, make_settings, emulator.url)
    job_id = submit(client, "PATCH", {"records": [
        {"id": "recTask0000000001", "fields": {"Status": "Todo"}, "expect": {"Owner": "Ada"}},
        {"id": "recTask0000000002", "fields": {"Status": "Done"}, "expect": {"Owner": "Bob"}},
        {"id": "recTask0000000003", "fields": {"Points": 8}},
        {"id": "recTask0000000099", "fields": {"Points": 1}, "expect": {"Points": 1}}]})
    summary = runner.run(job_id)
    assert (summary["state"], summary["succeeded"], summary["failed"]) == ("failed", 2, 2)
    ok, conflict, plain, missing = summary["records"]
    assert ok["ok"] and ok["fields"]["Status"] == "Todo"
    assert conflict["error"] == "conflict" and conflict["current"]["Owner"] == "Grace"
    assert conflict["current"]["Status"] == "Doing"
    assert plain["ok"] and plain["fields"]["Points"] == 8
    assert missing["error"] == "not_found"
    current = {r["id"]: r["fields"] for r in all_records(emulator.url)}
    assert current["recTask0000000002"]["Status"] == "Doing"  # never written
    assert publisher.events[0].type == "job.failed"


def test_an_update_in_doubt_is_sent_again_without_rechecking_expect(redis_url, make_settings,
                                                                    emulator):
    runner, _, client = make_runner(redis_url, make_settings, emulator.url)
    store = JobStore(client, namespace=NS)
    job_id = submit(client, "PATCH", {"records": [
        {"id": "recTask0000000003", "fields": {"Status": "Done"}, "expect": {"Status": "Todo"}}]})
    store.mark_sending(job_id, 0, send=[0], since_ms=int(time.time() * 1000))
    httpx.patch(f"{emulator.url}/v0/{DEMO_BASE}/{DEMO_TABLE}",  # it did arrive
                headers={"Authorization": "Bearer t"},
                json={"records": [{"id": "recTask0000000003", "fields": {"Status": "Done"}}]})
    assert runner.run(job_id)["state"] == "completed"  # not a conflict with itself


def test_a_delete_in_doubt_deletes_what_is_left(redis_url, make_settings, emulator):
    runner, _, client = make_runner(redis_url, make_settings, emulator.url)
    store = JobStore(client, namespace=NS)
    job_id = submit(client, "DELETE", {"records": ["recTask0000000001", "recTask0000000002"]})
    store.mark_sending(job_id, 0, send=[0, 1], since_ms=int(time.time() * 1000))
    httpx.delete(f"{emulator.url}/v0/{DEMO_BASE}/{DEMO_TABLE}/recTask0000000001",
                 headers={"Authorization": "Bearer t"}).raise_for_status()
    assert runner.run(job_id)["state"] == "completed"
    assert [r["id"] for r in all_records(emulator.url)] == ["recTask0000000003"]


def test_upsert_merges_on_the_named_fields(redis_url, make_settings, emulator):
    runner, _, client = make_runner(redis_url, make_settings, emulator.url)
    job_id = submit(client, "PATCH", {"performUpsert": {"fieldsToMergeOn": ["Name"]},
                                      "records": [{"fields": {"Name": "Cache the reads",
                                                              "Points": 13}},
                                                  {"fields": {"Name": "Brand new"}}]})
    assert runner.run(job_id)["succeeded"] == 2
    by_name = {r["fields"]["Name"]: r["fields"] for r in all_records(emulator.url)}
    assert by_name["Cache the reads"]["Points"] == 13 and "Brand new" in by_name


def test_invalid_fields_fail_their_chunk_only(redis_url, make_settings, emulator):
    runner, _, client = make_runner(redis_url, make_settings, emulator.url)
    records = [{"fields": {"Name": f"ok{i}"}} for i in range(10)] + [{"fields": {"Nope": 1}}]
    summary = runner.run(submit(client, "POST", {"records": records}))
    assert (summary["succeeded"], summary["failed"]) == (10, 1)
    assert summary["records"][10]["error"] == "unknown_field_name"


def test_a_run_stops_after_its_slice_and_continues(redis_url, make_settings, emulator):
    runner, _, client = make_runner(redis_url, make_settings, emulator.url, slice_s=0.0)
    job_id = submit(client, "POST", {"records": [{"fields": {"Name": f"s{i}"}}
                                                 for i in range(25)]})
    runs = 0
    while True:
        runs += 1
        try:
            summary = runner.run(job_id)
            break
        except MustWait as exc:
            assert exc.retry_after_s == 0
    assert runs == 3 and summary["succeeded"] == 25


def test_a_job_held_by_another_worker_waits(redis_url, make_settings, emulator):
    runner, _, client = make_runner(redis_url, make_settings, emulator.url)
    job_id = submit(client, "POST", {"records": [{"fields": {"Name": "x"}}]})
    JobStore(client, namespace=NS).take_lease(job_id, owner="other", lease_s=30)
    with pytest.raises(MustWait) as held:
        runner.run(job_id)
    assert 25 < held.value.retry_after_s <= 30


def test_the_same_idempotency_key_gives_the_same_job(redis_url):
    client = redis.Redis.from_url(redis_url)
    store, sender = JobStore(client, namespace=NS), MemorySender()
    request = parse_write("POST", DEMO_BASE, "Tasks", {"records": [{"fields": {"Name": "a"}}]})
    first = store.submit(request, sender, queue="default", idempotency_key="k-1")
    again = store.submit(request, sender, queue="default", idempotency_key="k-1")
    other = store.submit(request, sender, queue="default", idempotency_key="k-2")
    assert first == again != other
    assert [args for _, _, args, _ in sender.sent] == [[first], [other]]


def test_a_job_whose_message_was_lost_is_queued_again_by_its_key(redis_url):
    client = redis.Redis.from_url(redis_url)
    store = JobStore(client, namespace=NS)
    request = parse_write("POST", DEMO_BASE, "Tasks", {"records": [{"fields": {"Name": "a"}}]})

    class Failing(MemorySender):
        def send(self, *args, **kwargs):
            raise redis.ConnectionError("gone")

    with pytest.raises(redis.ConnectionError):
        store.submit(request, Failing(), queue="default", idempotency_key="k")
    sender = MemorySender()
    job_id = store.submit(request, sender, queue="default", idempotency_key="k")
    assert sender.sent == [("default", "airtable_write", [job_id], {})]
    assert store.describe(job_id)["state"] == "queued"


def test_runner_type_is_built_from_settings(redis_url, make_settings, emulator):
    runner, _, _ = make_runner(redis_url, make_settings, emulator.url)
    assert isinstance(runner, WriteRunner)


def test_a_chunk_that_found_no_slot_is_not_in_doubt(redis_url, make_settings, emulator):
    runner, _, client = make_runner(redis_url, make_settings, emulator.url)
    budget = RequestBudget(client, namespace=NS, token="test-token", base_rate_per_s=5,
                           token_rate_per_s=50)
    for _ in range(20):  # other workers hold the next 4 s of the base
        budget.take(DEMO_BASE, max_wait_s=10)
    job_id = submit(client, "POST", {"records": [{"fields": {"Name": "busy"}}]},
                    table=DEMO_TABLE)
    with pytest.raises(BudgetBusy):
        runner.run(job_id)
    assert JobStore(client, namespace=NS).chunk_progress(job_id) == {}  # nothing was sent


def test_a_pause_that_came_while_a_slot_was_awaited_stops_the_request(redis_url):
    client = redis.Redis.from_url(redis_url)
    budget = RequestBudget(client, namespace=NS, token="t", base_rate_per_s=5,
                           token_rate_per_s=50,
                           sleep=lambda s: (client.set(keys.base_pause_key(NS, DEMO_BASE), 1,
                                                       px=5000), time.sleep(s)))
    budget.take(DEMO_BASE, max_wait_s=1)
    with pytest.raises(BasePaused):
        budget.acquire(DEMO_BASE, max_wait_s=1)


def test_a_job_given_up_fails_its_unwritten_records_and_is_published(redis_url, make_settings,
                                                                     emulator):
    runner, publisher, client = make_runner(redis_url, make_settings, emulator.url, slice_s=0.0)
    job_id = submit(client, "POST", {"records": [{"fields": {"Name": f"g{i}"}}
                                                 for i in range(15)]})
    with pytest.raises(MustWait):
        runner.run(job_id)  # the first chunk is written, then the slice ends
    summary = runner.give_up(job_id, "gave up after 10 retries")
    assert (summary["state"], summary["succeeded"], summary["failed"]) == ("failed", 10, 5)
    assert summary["records"][14]["error"] == "gave_up"
    assert publisher.events[0].type == "job.failed"
    assert runner.give_up(job_id, "again") is None

"""The /airtable routes through Falcon's ASGI conductor, the emulator over real HTTP and Redis."""

from __future__ import annotations

import time

import jwt
import pytest
import redis
from falcon import testing

from api.app import create_app
from api.queue import MemoryQueue
from api.resources.airtable import AirtableDeps
from api.stats import MemoryStats
from common.publishing import EventLog
from common.replicas import LaggingReplicas
from domains.airtable.jobs import JobStore
from domains.airtable.sender import MemorySender
from domains.airtable.services import build_reader
from tests.airtable_support import DEMO_BASE, DEMO_TABLE, start_emulator

pytestmark = pytest.mark.anyio
JWT_SECRET = "a-jwt-secret-that-is-long-enough-for-hs256"
KEY = {"Authorization": "Bearer pub-key-1"}
RECORDS = f"/airtable/{DEMO_BASE}/{DEMO_TABLE}/records"


@pytest.fixture
def emulator_url():
    server = start_emulator()
    yield server.url
    server.stop()


@pytest.fixture
def sender():
    return MemorySender()


@pytest.fixture
def replicas():
    return LaggingReplicas(behind=0)


@pytest.fixture
async def client(make_settings, redis_url, emulator_url, sender, replicas):
    settings = make_settings(
        airtable={"api_url": emulator_url, "token": "test-token"},
        streamer={"jwt_secret": JWT_SECRET, "public_topics": ["public/#"]})
    sync = redis.Redis.from_url(redis_url)
    reader = build_reader(sync, settings)
    deps = AirtableDeps(sync, reader, JobStore(sync, namespace="hookstream"), sender,
                        reader.table_id, replicas)
    queue = MemoryQueue()

    async def ping():
        return True

    async def backlog():
        return 0

    app = create_app(settings, queue=queue, stats=MemoryStats(),
                     publisher=EventLog(sync, settings.events), ping=ping, backlog=backlog,
                     airtable=deps)
    async with testing.ASGIConductor(app) as conductor:
        yield conductor


def token(*topics: str) -> dict[str, str]:
    encoded = jwt.encode({"sub": "u1", "exp": int(time.time()) + 60, "topics": list(topics)},
                         JWT_SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {encoded}"}


async def test_a_list_is_a_miss_then_a_hit(client, emulator_url):
    first = await client.simulate_get(RECORDS, headers=KEY)
    second = await client.simulate_get(RECORDS, headers=KEY)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert [r["id"] for r in first.json["records"]] == [
        "recTask0000000001", "recTask0000000002", "recTask0000000003"]
    assert second.json == first.json


async def test_list_parameters_are_airtable_s(client):
    result = await client.simulate_get(RECORDS, headers=KEY, query_string=(
        "fields%5B%5D=Name&fields%5B%5D=Points&sort%5B0%5D%5Bfield%5D=Points"
        "&sort%5B0%5D%5Bdirection%5D=desc&maxRecords=2"))
    assert result.status_code == 200
    assert [r["fields"] for r in result.json["records"]] == [
        {"Name": "Stream the table", "Points": 5}, {"Name": "Wire the webhook", "Points": 3}]


async def test_one_record_by_table_name(client):
    result = await client.simulate_get(f"/airtable/{DEMO_BASE}/Tasks/records/recTask0000000002",
                                       headers=KEY)
    assert result.status_code == 200 and result.headers["X-Cache"] == "miss"
    assert result.json["fields"]["Owner"] == "Grace"


@pytest.mark.parametrize(("path", "query", "status", "code"), [
    (RECORDS, "bogus=1", 400, "bad_request"),
    (RECORDS, "maxRecords=0", 400, "bad_request"),
    (RECORDS, "sort%5B0%5D%5Bdirection%5D=up", 400, "bad_request"),
    (f"/airtable/base1/{DEMO_TABLE}/records", "", 400, "bad_request"),
    (f"{RECORDS}/notarecord", "", 400, "bad_request"),
    (f"{RECORDS}/recNope0000000000", "", 404, "not_found"),
    (f"/airtable/{DEMO_BASE}/NoSuchTable/records", "", 404, "not_found"),
], ids=["unknown-param", "max-records", "sort-direction", "base-id", "record-id",
        "no-record", "no-table"])
async def test_bad_reads_are_clear_4xx(client, path, query, status, code):
    result = await client.simulate_get(path, headers=KEY, query_string=query)
    assert result.status_code == status
    assert result.json["error"]["code"] == code


async def test_a_jwt_granting_the_table_topic_reads_it(client):
    granted = await client.simulate_get(f"/airtable/{DEMO_BASE}/Tasks/records",
                                        headers=token(f"airtable/{DEMO_BASE}/{DEMO_TABLE}/+"))
    wide = await client.simulate_get(RECORDS, headers=token("airtable/#"))
    other = await client.simulate_get(RECORDS, headers=token(f"airtable/{DEMO_BASE}/tblOther/+"))
    forged = await client.simulate_get(RECORDS, headers={"Authorization": "Bearer x.y.z"})
    anonymous = await client.simulate_get(RECORDS)
    assert (granted.status_code, wide.status_code) == (200, 200)
    assert other.status_code == 403
    assert (forged.status_code, anonymous.status_code) == (401, 401)


async def test_a_write_is_queued_and_answered_202(client, sender):
    result = await client.simulate_post(RECORDS, headers=KEY, json={
        "records": [{"fields": {"Name": "new"}}]})
    assert result.status_code == 202
    job_id = result.json["job"]
    assert sender.sent == [("deliveries", "airtable_write", [job_id], {})]
    state = await client.simulate_get(f"/airtable/jobs/{job_id}", headers=KEY)
    assert state.status_code == 200
    assert (state.json["state"], state.json["total"], state.json["records"]) == (
        "queued", 1, [None])
    by_token = await client.simulate_get(f"/airtable/jobs/{job_id}",
                                         headers=token(f"airtable/jobs/{job_id}"))
    assert by_token.status_code == 200


async def test_the_same_idempotency_key_gives_the_same_job(client, sender):
    body = {"records": ["recTask0000000001"]}
    headers = {**KEY, "Idempotency-Key": "delete-1"}
    first = await client.simulate_delete(RECORDS, headers=headers, json=body)
    again = await client.simulate_delete(RECORDS, headers=headers, json=body)
    assert first.json == again.json and len(sender.sent) == 1


async def test_a_write_is_answered_202_only_once_the_replicas_have_it(client, sender,
                                                                      replicas):
    body = {"records": ["recTask0000000001"]}
    headers = {**KEY, "Idempotency-Key": "delete-2"}
    replicas.behind = replicas.calls + 1  # the next confirmation falls short
    behind = await client.simulate_delete(RECORDS, headers=headers, json=body)
    assert behind.status_code == 503 and "Idempotency-Key" in behind.text
    again = await client.simulate_delete(RECORDS, headers=headers, json=body)
    assert again.status_code == 202 and len(sender.sent) == 1  # the same job, queued once


@pytest.mark.parametrize(("method", "headers", "body", "status"), [
    ("POST", KEY, {"records": []}, 400),
    ("PATCH", KEY, {"records": [{"fields": {"a": 1}}]}, 400),
    ("POST", {}, {"records": [{"fields": {}}]}, 401),
    ("POST", token("airtable/#"), {"records": [{"fields": {}}]}, 401),
], ids=["empty", "update-without-id", "no-key", "jwt-cannot-write"])
async def test_bad_writes_are_refused(client, sender, method, headers, body, status):
    result = await client.simulate_request(method, RECORDS, headers=headers, json=body)
    assert result.status_code == status
    assert sender.sent == []


async def test_malformed_json_and_wrong_media_are_refused(client):
    bad = await client.simulate_post(RECORDS, headers={**KEY, "Content-Type": "application/json"},
                                     body=b"{nope")
    text = await client.simulate_post(RECORDS, headers={**KEY, "Content-Type": "text/plain"},
                                      body=b"{}")
    assert (bad.status_code, text.status_code) == (400, 415)


async def test_an_unknown_job_is_404(client):
    result = await client.simulate_get("/airtable/jobs/jobnope", headers=KEY)
    assert result.status_code == 404


async def test_a_paused_base_answers_503_with_retry_after(client, redis_url):
    redis.Redis.from_url(redis_url).set(
        f"hookstream:{{airtable}}:pause:{DEMO_BASE}", 1, px=20_000)
    result = await client.simulate_get(RECORDS, headers=KEY)
    assert result.status_code == 503
    assert 19 <= int(result.headers["Retry-After"]) <= 20


async def test_stats_and_metrics_show_cache_and_budget(client):
    await client.simulate_get(RECORDS, headers=KEY)
    await client.simulate_get(RECORDS, headers=KEY)
    stats = (await client.simulate_get("/airtable/stats")).json
    assert stats["cache"] == {"hits": 1, "misses": 1}
    assert stats["bases"][DEMO_BASE]["granted"] == 1
    metrics = (await client.simulate_get("/metrics")).text
    assert 'hookstream_airtable_cache_reads_total{result="hit"} 1.0' in metrics
    assert f'hookstream_airtable_requests_total{{base="{DEMO_BASE}"}} 1.0' in metrics


async def test_no_token_configured_means_no_airtable_routes(make_settings, redis_url):
    async def ping():
        return True

    async def backlog():
        return 0

    app = create_app(make_settings(), queue=MemoryQueue(), stats=MemoryStats(),
                     publisher=EventLog(redis.Redis.from_url(redis_url),
                                        make_settings().events), ping=ping, backlog=backlog)
    async with testing.ASGIConductor(app) as conductor:
        assert (await conductor.simulate_get(RECORDS, headers=KEY)).status_code == 404

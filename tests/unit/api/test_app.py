"""The ingress ASGI app through Falcon's ASGI conductor, with in-memory queue and stats
and the real event log."""

import time

import pytest
import redis
from falcon import testing

from api.app import create_app
from api.queue import MemoryQueue
from api.stats import MemoryStats
from api.verifiers.standard import sign
from common.publishing import EventLog
from common.replicas import LaggingReplicas

pytestmark = pytest.mark.anyio


@pytest.fixture
def queue():
    return MemoryQueue()


@pytest.fixture
def stats():
    return MemoryStats()


@pytest.fixture
def settings(make_settings):
    return make_settings()


@pytest.fixture
async def client(settings, queue, stats, redis_client):
    log = EventLog(redis_client, settings.events)

    async def ping():
        return redis_client.ping()

    async def backlog():
        return len(queue.deliveries)

    app = create_app(settings, queue=queue, stats=stats, publisher=log, ping=ping,
                     backlog=backlog)
    async with testing.ASGIConductor(app) as conductor:
        yield conductor


def signed(secret, body=b'{"type":"order.paid","n":1}', msg_id="msg_1", when=None):
    headers = sign(secret, msg_id, when or int(time.time()), body)
    return {"body": body, "headers": {**headers, "Content-Type": "application/json"}}


async def test_signed_webhook_is_enqueued_and_accepted(client, queue, demo_secret):
    result = await client.simulate_post("/webhooks/demo", **signed(demo_secret))
    assert result.status_code == 202
    assert result.json == {"id": "demo.msg_1", "delivery_id": "msg_1"}
    assert [d.event_id for d in queue.deliveries] == ["demo.msg_1"]
    assert queue.deliveries[0].body == '{"type":"order.paid","n":1}'


async def test_a_repeat_is_a_duplicate_with_no_second_job(client, queue, demo_secret):
    first = await client.simulate_post("/webhooks/demo", **signed(demo_secret))
    again = await client.simulate_post("/webhooks/demo", **signed(demo_secret))
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json == {"id": "demo.msg_1", "delivery_id": "msg_1", "duplicate": True}
    assert len(queue.deliveries) == 1


@pytest.mark.parametrize(("case", "status", "code", "reason"), [
    ("bad-signature", 401, "unauthorized", "bad_signature"),
    ("stale", 401, "unauthorized", "stale_timestamp"),
    ("too-large", 413, "payload_too_large", "payload_too_large"),
    ("malformed-json", 400, "bad_request", "malformed_json"),
    ("not-json-type", 415, "unsupported_media_type", "unsupported_media_type"),
])
async def test_rejections_are_json_errors_counted_by_reason_and_enqueue_nothing(
        client, queue, stats, demo_secret, case, status, code, reason):
    request = signed(demo_secret)
    if case == "bad-signature":
        request = signed("whsec_" + "QUJDREVGR0hJSktMTU5PUA==")
    elif case == "stale":
        request = signed(demo_secret, when=int(time.time()) - 3600)
    elif case == "too-large":
        request = signed(demo_secret, body=b'{"x":"' + b"a" * 5000 + b'"}')
    elif case == "malformed-json":
        request = signed(demo_secret, body=b'{"x":')
    elif case == "not-json-type":
        request["headers"]["Content-Type"] = "text/plain"
    result = await client.simulate_post("/webhooks/demo", **request)
    assert result.status_code == status
    assert result.json["error"]["code"] == code
    assert queue.deliveries == []
    assert (await stats.read("demo"))[f"rejected:{reason}"] == 1


async def test_unknown_source_is_404(client, queue, demo_secret):
    result = await client.simulate_post("/webhooks/nope", **signed(demo_secret))
    assert result.status_code == 404
    assert result.json["error"]["code"] == "not_found"
    assert queue.deliveries == []


async def test_queue_down_gives_503_with_retry_after(client, queue, demo_secret):
    queue.fail_with = redis.ConnectionError("down")
    result = await client.simulate_post("/webhooks/demo", **signed(demo_secret))
    assert result.status_code == 503
    assert result.headers["Retry-After"] == "5"
    assert result.json["error"]["code"] == "unavailable"


async def test_rate_limited_gives_429_with_retry_after(client, queue, demo_secret):
    queue.rate_limited = True
    result = await client.simulate_post("/webhooks/demo", **signed(demo_secret))
    assert result.status_code == 429
    assert result.headers["Retry-After"] == "1"
    assert queue.deliveries == []


async def test_stats_endpoint_counts_without_secrets(client, stats, demo_secret):
    await client.simulate_post("/webhooks/demo", **signed("whsec_" + "QUJDREVGR0g="))
    result = await client.simulate_get("/webhooks/demo")
    assert result.status_code == 200
    assert result.json == {"source": "demo", "kind": "standard-webhooks",
                           "counts": {"received": 1, "rejected:bad_signature": 1}}
    assert demo_secret not in result.text
    assert (await client.simulate_get("/webhooks/nope")).status_code == 404


async def test_publish_with_key_appends_to_the_log(client, redis_client):
    result = await client.simulate_post(
        "/publish", json={"topic": "public/x", "type": "t", "data": 1},
        headers={"Authorization": "Bearer pub-key-1"})
    assert result.status_code == 202
    assert result.json["duplicate"] is False
    assert redis_client.xlen("hookstream:{events}:log") == 1


@pytest.mark.parametrize(("headers", "body", "status"), [
    ({}, {"topic": "a", "type": "t"}, 401),
    ({"Authorization": "Bearer wrong"}, {"topic": "a", "type": "t"}, 401),
    ({"Authorization": "Bearer pub-key-1"}, {"topic": "a/#", "type": "t"}, 400),
    ({"Authorization": "Bearer pub-key-1"}, {"type": "t"}, 400),
    ({"Authorization": "Bearer pub-key-1"}, {"topic": "a", "type": "t", "extra": 1}, 400),
    ({"Authorization": "Bearer pub-key-1"}, [1, 2], 400),
], ids=["no-key", "wrong-key", "wildcard-topic", "missing-topic", "unknown-field", "not-object"])
async def test_publish_rejects_bad_requests(client, redis_client, headers, body, status):
    result = await client.simulate_post("/publish", json=body, headers=headers)
    assert result.status_code == status
    assert "error" in result.json
    assert redis_client.xlen("hookstream:{events}:log") == 0


async def test_health_ready_openapi_and_unknown_routes(client):
    assert (await client.simulate_get("/healthz")).status_code == 200
    assert (await client.simulate_get("/readyz")).status_code == 200
    assert (await client.simulate_get("/openapi.json")).json["openapi"] == "3.1.0"
    missing = await client.simulate_get("/nope")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


@pytest.fixture
def routed(make_settings, demo_secret, queue, stats):
    settings = make_settings(sources={"shop": {
        "kind": "standard-webhooks", "secrets": [demo_secret],
        "topic": "orders/{data.customer_id}", "drop_types": ["ping", "test.*"]}})
    return create_app(settings, queue=queue, stats=stats, publisher=None, ping=None,
                      backlog=None)


@pytest.mark.parametrize(("body", "status", "expected"), [
    (b'{"type":"order.paid","data":{"customer_id":"c1"}}', 202, None),
    (b'{"type":"ping"}', 200, {"filtered": True}),
    (b'{"type":"test.hello"}', 200, {"filtered": True}),
    (b'{"type":"order.paid","data":{}}', 400, {"code": "bad_request"}),
], ids=["routed", "dropped-type", "dropped-glob", "unroutable"])
async def test_routing_templates_and_filters(routed, queue, stats, demo_secret, body, status,
                                             expected):
    async with testing.ASGIConductor(routed) as conductor:
        result = await conductor.simulate_post("/webhooks/shop", **signed(demo_secret, body))
    assert result.status_code == status
    if status == 202:
        assert [d.event_id for d in queue.deliveries] == ["shop.msg_1"]
    else:
        assert queue.deliveries == []
    if expected == {"filtered": True}:
        assert result.json["filtered"] is True
        assert (await stats.read("shop"))["filtered"] == 1
    elif expected:
        assert result.json["error"]["code"] == "bad_request"
        assert (await stats.read("shop"))["rejected:unroutable"] == 1


async def test_publish_answers_202_only_once_the_replicas_confirm(settings, queue, stats,
                                                                   redis_client):
    replicas = LaggingReplicas()
    app = create_app(settings, queue=queue, stats=stats,
                     publisher=EventLog(redis_client, settings.events), ping=None,
                     backlog=None, replicas=replicas)
    body = {"topic": "public/x", "type": "t", "data": 1, "id": "order-7"}
    headers = {"Authorization": "Bearer pub-key-1"}
    async with testing.ASGIConductor(app) as client:
        behind = await client.simulate_post("/publish", json=body, headers=headers)
        assert behind.status_code == 503 and behind.headers["retry-after"]
        again = await client.simulate_post("/publish", json=body, headers=headers)
    assert again.status_code == 202 and again.json["duplicate"] is True  # the same event
    assert redis_client.xlen("hookstream:{events}:log") == 1 and replicas.calls == 2

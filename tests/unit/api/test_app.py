"""The ingress app through Falcon's test client, with an in-memory queue and the real event log."""

import time

import pytest
import redis
from falcon import testing

from api.app import create_app
from api.queue import MemoryQueue
from api.verifiers.standard import sign
from common.publishing import EventLog


@pytest.fixture
def queue():
    return MemoryQueue()


@pytest.fixture
def client(make_settings, queue, redis_client):
    settings = make_settings()
    log = EventLog(redis_client, settings.events)
    return testing.TestClient(create_app(settings, queue=queue, publisher=log,
                                         ping=redis_client.ping))


def signed(secret, body=b'{"type":"order.paid","n":1}', msg_id="msg_1", when=None):
    headers = sign(secret, msg_id, when or int(time.time()), body)
    return {"body": body, "headers": {**headers, "Content-Type": "application/json"}}


def test_signed_webhook_is_enqueued_and_accepted(client, queue, demo_secret):
    result = client.simulate_post("/webhooks/demo", **signed(demo_secret))
    assert result.status_code == 202
    assert result.json == {"id": "demo.msg_1", "delivery_id": "msg_1"}
    assert [d.event_id for d in queue.deliveries] == ["demo.msg_1"]
    assert queue.deliveries[0].body == '{"type":"order.paid","n":1}'


@pytest.mark.parametrize(("case", "status", "code"), [
    ("bad-signature", 401, "unauthorized"),
    ("stale", 401, "unauthorized"),
    ("unknown-source", 404, "not_found"),
    ("too-large", 413, "payload_too_large"),
    ("malformed-json", 400, "bad_request"),
    ("not-json-type", 415, "unsupported_media_type"),
])
def test_rejections_are_json_errors_and_enqueue_nothing(client, queue, demo_secret, case,
                                                        status, code):
    request = signed(demo_secret)
    path = "/webhooks/demo"
    if case == "bad-signature":
        request = signed("whsec_" + "QUJDREVGR0hJSktMTU5PUA==")
    elif case == "stale":
        request = signed(demo_secret, when=int(time.time()) - 3600)
    elif case == "unknown-source":
        path = "/webhooks/nope"
    elif case == "too-large":
        request = signed(demo_secret, body=b'{"x":"' + b"a" * 5000 + b'"}')
    elif case == "malformed-json":
        request = signed(demo_secret, body=b'{"x":')
    elif case == "not-json-type":
        request["headers"]["Content-Type"] = "text/plain"
    result = client.simulate_post(path, **request)
    assert result.status_code == status
    assert result.json["error"]["code"] == code
    assert queue.deliveries == []


def test_queue_down_gives_503_with_retry_after(client, queue, demo_secret):
    queue.fail_with = redis.ConnectionError("down")
    result = client.simulate_post("/webhooks/demo", **signed(demo_secret))
    assert result.status_code == 503
    assert result.headers["Retry-After"] == "5"


def test_publish_with_key_appends_to_the_log(client, redis_client):
    result = client.simulate_post("/publish", json={"topic": "public/x", "type": "t", "data": 1},
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
def test_publish_rejects_bad_requests(client, redis_client, headers, body, status):
    result = client.simulate_post("/publish", json=body, headers=headers)
    assert result.status_code == status
    assert "error" in result.json
    assert redis_client.xlen("hookstream:{events}:log") == 0


def test_health_ready_and_unknown_routes(client):
    assert client.simulate_get("/healthz").status_code == 200
    assert client.simulate_get("/readyz").status_code == 200
    missing = client.simulate_get("/nope")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"

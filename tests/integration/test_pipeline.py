"""The whole path with real processes: signed webhook -> gunicorn -> dramatiq -> Redis -> SSE."""

import json
import time
from datetime import UTC, datetime

import httpx
import pytest
import redis
from standardwebhooks.webhooks import Webhook

from common.events import Event
from common.redis import connect
from tests.integration.conftest import QUEUED_MESSAGES, STREAM_KEY
from tests.sse_client import SseReader
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def official_signed(secret: str, body: bytes, msg_id: str, when: datetime | None = None):
    when = when or datetime.now(UTC)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, when, body.decode()),
            "content-type": "application/json"}


def test_signed_webhook_reaches_an_sse_client(system, demo_secret):
    reader = SseReader(f"{system.streamer_url}/events",
                       params={"topic": "webhooks/demo"}).wait_connected()
    try:
        body = b'{"type":"order.paid","order":42}'
        response = httpx.post(f"{system.ingress_url}/webhooks/demo", content=body,
                              headers=official_signed(demo_secret, body, "msg_int_1"))
        assert response.status_code == 202, response.text
        event = reader.next_event(timeout_s=15)
        envelope = json.loads(event.data)
        assert event.event == "order.paid"
        assert event.id and "-" in event.id
        assert envelope["id"] == "demo.msg_int_1"
        assert envelope["topic"] == "webhooks/demo"
        assert envelope["data"] == {"type": "order.paid", "order": 42}
        assert envelope["source"] == "demo"
    finally:
        reader.close()


def test_bad_deliveries_get_4xx_and_produce_no_event(system, demo_secret, tmp_path):
    body = b'{"type":"x"}'
    url = f"{system.ingress_url}/webhooks/demo"
    stale = datetime.fromtimestamp(time.time() - 3600, UTC)
    big = b'{"x":"' + b"a" * 70_000 + b'"}'
    cases = {
        "wrong signature": (url, body, official_signed("whsec_" + "QUJDREVGR0g=", body, "m1")),
        "stale timestamp": (url, body, official_signed(demo_secret, body, "m2", stale)),
        "unknown source": (f"{system.ingress_url}/webhooks/nope", body,
                           official_signed(demo_secret, body, "m3")),
        "oversized body": (url, big, official_signed(demo_secret, big, "m4")),
        "malformed json": (url, b'{"x":', official_signed(demo_secret, b'{"x":', "m5")),
    }
    expected = {"wrong signature": 401, "stale timestamp": 401, "unknown source": 404,
                "oversized body": 413, "malformed json": 400}
    for name, (target, content, headers) in cases.items():
        response = httpx.post(target, content=content, headers=headers)
        assert response.status_code == expected[name], (name, response.text)
        assert response.json()["error"]["code"]
    client = witnessed_by(system, demo_secret)
    assert logged_events(client) == ["demo.msg_witness"]
    client.close()
    system.supervisor.stop()  # every line written: the processes have exited
    assert_structured_and_secret_free((tmp_path / "ingress.log").read_text(), demo_secret,
                                      "Booting worker")
    assert_structured_and_secret_free((tmp_path / "worker.log").read_text(), demo_secret,
                                      "Dramatiq")


def witnessed_by(system, secret: str) -> redis.Redis:
    """Send a good delivery after the bad ones and wait until the worker has published it
    and its queue is empty: whatever the bad ones had queued would be in the log by then."""
    body = b'{"type":"witness"}'
    response = httpx.post(f"{system.ingress_url}/webhooks/demo", content=body,
                          headers=official_signed(secret, body, "msg_witness"))
    assert response.status_code == 202, response.text
    client = connect(system.redis_url)
    wait_until(lambda: ("demo.msg_witness" in logged_events(client)
                        and client.hlen(QUEUED_MESSAGES) == 0),
               timeout_s=30, what="the witness delivery to reach the log")
    return client


def logged_events(client: redis.Redis) -> list[str]:
    return [Event.from_fields(fields).id for _, fields in client.xrange(STREAM_KEY)]


def assert_structured_and_secret_free(log: str, secret: str, server_line: str) -> None:
    """The servers' own lines too (gunicorn, dramatiq's main process): JSON, never a secret."""
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    events = {line["event"] for line in lines}
    assert any(event.startswith(server_line) for event in events), events
    assert secret not in log and secret.removeprefix("whsec_") not in log


def test_chunked_body_is_read_not_dropped(system, demo_secret):
    body = b'{"type":"chunky","n":1}'
    reader = SseReader(f"{system.streamer_url}/events",
                       params={"topic": "webhooks/#"}).wait_connected()
    try:
        response = httpx.post(f"{system.ingress_url}/webhooks/demo", content=iter([body]),
                              headers=official_signed(demo_secret, body, "msg_chunked"))
        assert response.status_code == 202, response.text
        assert json.loads(reader.next_event(timeout_s=15).data)["data"]["n"] == 1
    finally:
        reader.close()


def test_publish_endpoint_reaches_subscribers_of_a_pattern(system):
    reader = SseReader(f"{system.streamer_url}/events",
                       params={"topic": ["public/+/news", "webhooks/demo"]}).wait_connected()
    try:
        response = httpx.post(f"{system.ingress_url}/publish",
                              json={"topic": "public/eu/news", "type": "news.posted",
                                    "data": {"title": "hi"}, "id": "news-1"},
                              headers={"Authorization": "Bearer integration-key"})
        assert response.status_code == 202, response.text
        event = reader.next_event(timeout_s=10)
        assert event.event == "news.posted"
        assert json.loads(event.data)["id"] == "news-1"
    finally:
        reader.close()


def test_private_topic_without_token_is_refused(system):
    response = httpx.get(f"{system.streamer_url}/events", params={"topic": "private/x"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_required"

"""The real ingress (gunicorn + uvicorn workers) alone, no worker: what lands in the queue."""

import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from api.verifiers.standard import sign
from common.redis import connect
from hookstream import processes
from hookstream.embedded import EmbeddedRedis, free_port
from hookstream.supervisor import Supervisor, wait_http_ok
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
MSGS = "hookstream:deliveries.msgs"


def ingress_config(secret: str) -> str:
    return f"""
log_format = "json"
[ingress]
max_body_bytes = 2048
enqueue_timeout_s = 1.0
retry_after_s = 1
[sources.demo]
kind = "standard-webhooks"
secrets = ["{secret}"]
[sources.gh]
kind = "github"
secrets = ["gh-secret"]
topic = "github/{{repository.name}}"
drop_types = ["ping"]
type = "{{action|ping}}"
"""


def start_ingress(tmp_path: Path, redis_url: str, secret: str) -> tuple[Supervisor, str]:
    config = tmp_path / "ingress.toml"
    config.write_text(ingress_config(secret))
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKSTREAM_")}
    env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=redis_url)
    port = free_port()
    supervisor = Supervisor(env, log_dir=str(tmp_path), restart=False)
    supervisor.start("ingress", processes.ingress(port))
    url = f"http://127.0.0.1:{port}"
    wait_http_ok(f"{url}/healthz", timeout_s=60)
    return supervisor, url


@pytest.fixture
def ingress(tmp_path, redis_url, demo_secret):
    supervisor, url = start_ingress(tmp_path, redis_url, demo_secret)
    try:
        yield url
    finally:
        supervisor.stop()


def signed(secret: str, body: bytes, msg_id: str) -> dict[str, str]:
    return {**sign(secret, msg_id, int(time.time()), body), "content-type": "application/json"}


def queued_event_ids(client: redis.Redis) -> list[str]:
    return [json.loads(raw)["args"][1] for raw in client.hvals(MSGS)]


def test_duplicates_filters_and_stats_through_the_real_server(ingress, demo_secret, redis_client):
    body = b'{"type":"order.paid"}'
    first = httpx.post(f"{ingress}/webhooks/demo", content=body,
                       headers=signed(demo_secret, body, "msg_a"))
    again = httpx.post(f"{ingress}/webhooks/demo", content=body,
                       headers=signed(demo_secret, body, "msg_a"))
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["duplicate"] is True
    ping = b'{"zen":"hi"}'
    from api.verifiers.github import sign as gh_sign
    filtered = httpx.post(f"{ingress}/webhooks/gh", content=ping, headers={
        **gh_sign("gh-secret", ping, delivery_id="g1"), "content-type": "application/json"})
    assert filtered.status_code == 200 and filtered.json()["filtered"] is True
    assert queued_event_ids(redis_client) == ["demo.msg_a"]
    stats = httpx.get(f"{ingress}/webhooks/demo").json()
    assert stats["counts"] == {"received": 2, "accepted": 1, "duplicates": 1}
    assert httpx.get(f"{ingress}/webhooks/gh").json()["counts"]["filtered"] == 1
    metrics = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(httpx.get(f"{ingress}/metrics").text)
               for s in family.samples}
    assert metrics[("hookstream_ingress_webhooks_total",
                    (("outcome", "duplicate"), ("source", "demo")))] == 1
    assert metrics[("hookstream_ingress_webhooks_total",
                    (("outcome", "filtered"), ("source", "gh")))] == 1
    assert metrics[("hookstream_queue_messages", (("queue", "deliveries"),))] == 1


def test_chunked_bodies_are_read_and_capped_by_the_real_server(ingress, demo_secret,
                                                               redis_client):
    body = b'{"type":"chunky"}'
    ok = httpx.post(f"{ingress}/webhooks/demo", content=iter([body[:5], body[5:]]),
                    headers=signed(demo_secret, body, "msg_chunk"))
    assert ok.status_code == 202, ok.text
    big = b'{"x":"' + b"a" * 4000 + b'"}'
    too_big = httpx.post(f"{ingress}/webhooks/demo", content=iter([big[:1000], big[1000:]]),
                         headers=signed(demo_secret, big, "msg_big"))
    assert too_big.status_code == 413
    assert queued_event_ids(redis_client) == ["demo.msg_chunk"]
    assert json.loads(redis_client.hvals(MSGS)[0])["args"][2] == body.decode()


def test_redis_down_is_503_with_retry_after_and_recovers(tmp_path, demo_secret):
    store = EmbeddedRedis(tmp_path / "valkey", durable=True).start()
    supervisor, url = start_ingress(tmp_path, store.url, demo_secret)
    body = b'{"type":"x"}'
    try:
        store.stop()
        down = httpx.post(f"{url}/webhooks/demo", content=body,
                          headers=signed(demo_secret, body, "msg_down"), timeout=10)
        assert down.status_code == 503
        assert down.headers["retry-after"] == "1"
        store.start()
        up = httpx.post(f"{url}/webhooks/demo", content=body,
                        headers=signed(demo_secret, body, "msg_down"), timeout=10)
        assert up.status_code == 202, up.text
    finally:
        supervisor.stop()
        store.stop()


class Sender:
    """Sends each delivery until it gets a 2xx, retrying on 503 and connection errors."""

    def __init__(self, url: str, secret: str) -> None:
        self.url, self.secret = url, secret
        self.answers: dict[str, list[dict]] = {}
        self.retries = 0
        self.lock = threading.Lock()

    def send(self, msg_id: str) -> None:
        body = json.dumps({"type": "burst", "id": msg_id}).encode()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                response = httpx.post(f"{self.url}/webhooks/demo", content=body, timeout=5,
                                      headers=signed(self.secret, body, msg_id))
            except httpx.HTTPError:
                self.retries += 1
                time.sleep(0.05)
                continue
            if response.status_code in (200, 202):
                with self.lock:
                    self.answers.setdefault(msg_id, []).append(response.json())
                return
            assert response.status_code == 503, response.text
            self.retries += 1
            time.sleep(0.05)
        raise AssertionError(f"{msg_id} never accepted")


def test_nothing_acknowledged_is_lost_or_doubled_across_a_redis_restart(tmp_path, demo_secret):
    store = EmbeddedRedis(tmp_path / "valkey", durable=True).start()
    client = connect(store.url)
    client.config_set("appendfsync", "always")
    supervisor, url = start_ingress(tmp_path, store.url, demo_secret)
    sender = Sender(url, demo_secret)
    ids = [f"burst_{n}_{uuid.uuid4().hex[:6]}" for n in range(400)]
    sends = ids + ids[::5]  # every fifth delivery is sent twice
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(sender.send, msg_id) for msg_id in sends[:150]]
            store.stop()
            wait_until(lambda: sender.retries > 0, what="deliveries refused while Redis is down")
            store.start()
            client.config_set("appendfsync", "always")
            futures += [pool.submit(sender.send, msg_id) for msg_id in sends[150:]]
            for future in futures:
                future.result()
        assert sender.retries > 0, "the restart should have refused some deliveries"
        queued = queued_event_ids(client)
        assert sorted(queued) == sorted(f"demo.{msg_id}" for msg_id in ids)
        repeated = [answers for answers in sender.answers.values() if len(answers) == 2]
        assert len(repeated) == len(ids[::5])
        assert all(any(a.get("duplicate") for a in answers) for answers in repeated)
    finally:
        supervisor.stop()
        client.close()
        store.stop()

"""Crash recovery and dead letters with real processes: gunicorn, dramatiq under
`hookstream worker`, the scheduler (janitor), uvicorn, and a real SSE client."""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from hookstream.commands import main
from tests.integration.cluster_support import Cluster
from tests.integration.conftest import STREAM_KEY, config_text
from tests.sse_client import SseReader
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
WORKER_MODULES = ("workers.actors", "tests.integration.crashing")


def official_signed(secret: str, body: bytes, msg_id: str) -> dict[str, str]:
    now = datetime.now(UTC)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body.decode()),
            "content-type": "application/json"}


def runs_key(event_id: str) -> str:  # as written by tests/integration/crashing.py
    return f"test:runs:{event_id}"


def paused_key(event_id: str) -> str:
    return f"test:paused:{event_id}"


class RecoveryCluster(Cluster):
    """The demo source's cluster; its workers also load `tests.integration.crashing`."""

    def __init__(self, tmp_path: Path, redis_url: str, secret: str) -> None:
        super().__init__(tmp_path, redis_url, config_text(secret), WORKER_MODULES)

    def send(self, secret: str, msg_id: str, payload: dict) -> str:
        body = json.dumps(payload).encode()
        response = httpx.post(f"{self.ingress_url}/webhooks/demo", content=body,
                              headers=official_signed(secret, body, msg_id))
        assert response.status_code == 202, response.text
        return response.json()["id"]


@pytest.fixture
def cluster(tmp_path, redis_url, demo_secret):
    with RecoveryCluster(tmp_path, redis_url, demo_secret) as running:
        yield running


def events_until(reader: SseReader, marker: str) -> list[dict]:
    """Every envelope the stream delivers before the marker event (the log is ordered)."""
    envelopes = []
    while True:
        envelope = json.loads(reader.next_event(timeout_s=30).data)
        if envelope["id"] == marker:
            return envelopes
        envelopes.append(envelope)


@pytest.mark.parametrize("stage", ["before", "after"], ids=["killed-before-publish",
                                                            "killed-after-publish"])
def test_job_of_a_sigkilled_worker_runs_again_and_its_event_arrives_once(cluster, demo_secret,
                                                                          stage):
    cluster.start_workers()
    reader = SseReader(f"{cluster.streamer_url}/events",
                       params={"topic": "webhooks/demo"}).wait_connected()
    try:
        event_id = cluster.send(demo_secret, f"msg_crash_{stage}",
                                {"type": "crash.test", "pause": stage})
        victim = int(wait_until(lambda: cluster.redis.get(paused_key(event_id)),
                                what="the job to pause mid-flight", timeout_s=60))
        os.kill(victim, signal.SIGKILL)
        runs = wait_until(lambda: [int(pid) for pid in
                                   cluster.redis.lrange(runs_key(event_id), 0, -1)
                                   if int(pid) != victim],
                          what="the job to run again on a restarted worker process", timeout_s=60)
        assert runs and victim not in runs
        wait_until(lambda: cluster.redis.hlen("hookstream:deliveries.msgs") == 0,
                   what="the second run to be acknowledged", timeout_s=60)
        cluster.publish_marker("webhooks/demo", f"marker-{stage}")
        delivered = [envelope for envelope in events_until(reader, f"marker-{stage}")
                     if envelope["id"] == event_id]
        assert len(delivered) == 1
        assert delivered[0]["type"] == "crash.test"
        assert cluster.redis.xlen(STREAM_KEY) == 2  # the event and the marker
    finally:
        reader.close()


def test_permanent_failure_is_dead_lettered_and_replay_delivers_it(cluster, demo_secret,
                                                                    monkeypatch, capsys):
    monkeypatch.setenv("HOOKSTREAM_CONFIG", cluster.env["HOOKSTREAM_CONFIG"])
    monkeypatch.setenv("HOOKSTREAM_REDIS_URL", cluster.env["HOOKSTREAM_REDIS_URL"])
    cluster.start_workers(HOOKSTREAM_SOURCES__DEMO__TOPIC="orders/{data.customer}")
    reader = SseReader(f"{cluster.streamer_url}/events",
                       params={"topic": "webhooks/demo"}).wait_connected()
    try:
        event_id = cluster.send(demo_secret, "msg_dead", {"type": "order.paid", "n": 7})
        wait_until(lambda: cluster.redis.zcard("hookstream:deliveries.XQ") == 1,
                   what="the delivery to be dead-lettered", timeout_s=60)
        assert main(["dlq", "list"]) == 0
        listing = capsys.readouterr().out
        assert "process_delivery" in listing and "TemplateError" in listing
        letter_id = listing.splitlines()[1].split()[0]
        assert listing.splitlines()[1].split()[5] == "1"  # one attempt: permanent
        assert main(["dlq", "show", letter_id[:8]]) == 0
        shown = capsys.readouterr().out
        assert event_id in shown and '"order.paid"' in shown

        cluster.stop_workers()
        cluster.start_workers()  # the fixed configuration
        assert main(["dlq", "replay", letter_id]) == 0
        assert "replayed 1" in capsys.readouterr().out
        envelope = json.loads(reader.next_event(timeout_s=30).data)
        assert (envelope["id"], envelope["data"]) == (event_id, {"type": "order.paid", "n": 7})
        assert main(["dlq", "list"]) == 0
        assert "no dead letters" in capsys.readouterr().out
        assert main(["dlq", "replay", letter_id]) == 1  # already gone: a clear error
    finally:
        reader.close()

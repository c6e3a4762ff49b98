"""Crash recovery and dead letters with real processes: gunicorn, dramatiq under
`hookstream worker`, the scheduler (janitor), uvicorn, and a real SSE client."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from common.redis import connect
from hookstream import processes
from hookstream.commands import main
from hookstream.embedded import free_port
from hookstream.supervisor import Supervisor, wait_http_ok
from tests.integration.conftest import STREAM_KEY, config_text
from tests.sse_client import SseReader

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
FAST_RECOVERY = {
    "HOOKSTREAM_WORKERS__HEARTBEAT_TIMEOUT_S": "3",
    "HOOKSTREAM_WORKERS__HEARTBEAT_INTERVAL_S": "0.5",
    "HOOKSTREAM_WORKERS__SCHEDULE__JANITOR": "0.5",
}
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


class Cluster:
    """Ingress, streamer and scheduler; workers started (and replaced) by the test."""

    def __init__(self, tmp_path: Path, redis_url: str, secret: str) -> None:
        config = tmp_path / "hookstream.toml"
        config.write_text(config_text(secret))
        self.tmp_path = tmp_path
        self.redis = connect(redis_url)
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith("HOOKSTREAM_")}
        self.env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=redis_url,
                        **FAST_RECOVERY)
        ports = processes.Ports(ingress=free_port(), streamer=free_port())
        self.ingress_url = f"http://127.0.0.1:{ports.ingress}"
        self.streamer_url = f"http://127.0.0.1:{ports.streamer}"
        self.supervisor = Supervisor(self.env, cwd=str(ROOT), log_dir=str(tmp_path),
                                     restart=False)
        self.supervisor.start("ingress", processes.ingress(ports.ingress))
        self.supervisor.start("streamer", processes.streamer(ports.streamer))
        self.supervisor.start("scheduler", processes.scheduler())
        self.workers: Supervisor | None = None

    def start_workers(self, **env: str) -> None:
        self.workers = Supervisor({**self.env, **env}, cwd=str(ROOT),
                                  log_dir=str(self.tmp_path), restart=False)
        self.workers.start("worker", processes.worker(processes=1, threads=2,
                                                      modules=WORKER_MODULES))

    def stop_workers(self) -> None:
        if self.workers is not None:
            self.workers.stop(timeout_s=30)
            self.workers = None

    def wait_ready(self) -> None:
        wait_http_ok(f"{self.ingress_url}/readyz")
        wait_http_ok(f"{self.streamer_url}/readyz")

    def send(self, secret: str, msg_id: str, payload: dict) -> str:
        body = json.dumps(payload).encode()
        response = httpx.post(f"{self.ingress_url}/webhooks/demo", content=body,
                              headers=official_signed(secret, body, msg_id))
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def publish_marker(self, marker: str) -> None:
        response = httpx.post(f"{self.ingress_url}/publish",
                              json={"topic": "webhooks/demo", "type": "test.marker",
                                    "data": {}, "id": marker},
                              headers={"Authorization": "Bearer integration-key"})
        assert response.status_code == 202, response.text

    def stop(self) -> None:
        self.stop_workers()
        self.supervisor.stop()
        self.redis.close()
        for log in sorted(self.tmp_path.glob("*.log")):
            print(f"----- {log.name} (tail) -----\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def cluster(tmp_path, redis_url, demo_secret):
    running = Cluster(tmp_path, redis_url, demo_secret)
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def wait_for(predicate, *, timeout_s: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


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
        victim = int(wait_for(lambda: cluster.redis.get(paused_key(event_id)),
                              what="the job to pause mid-flight"))
        os.kill(victim, signal.SIGKILL)
        runs = wait_for(lambda: [int(pid) for pid in cluster.redis.lrange(runs_key(event_id), 0, -1)
                                 if int(pid) != victim],
                        what="the job to run again on a restarted worker process")
        assert runs and victim not in runs
        wait_for(lambda: cluster.redis.hlen("hookstream:deliveries.msgs") == 0,
                 what="the second run to be acknowledged")
        cluster.publish_marker(f"marker-{stage}")
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
        wait_for(lambda: cluster.redis.zcard("hookstream:deliveries.XQ") == 1,
                 what="the delivery to be dead-lettered")
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

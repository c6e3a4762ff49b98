"""Airtable writes and reads with real processes: gunicorn ingress, dramatiq worker, the emulator.

The emulator runs in this process on a real port (a 5 requests/s limit, short
penalty); the ingress and the worker are the real commands, configured by file.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import orjson
import pytest
import redis

from domains.airtable.emulator.server import EmulatorThread, build
from hookstream import processes
from hookstream.embedded import free_port
from hookstream.supervisor import Supervisor, wait_http_ok
from tests.airtable_support import DEMO_BASE, DEMO_TABLE, admin, start_emulator
from tests.integration.conftest import STREAM_KEY

pytestmark = pytest.mark.integration
KEY = {"Authorization": "Bearer integration-key"}
RECORDS = f"/airtable/{DEMO_BASE}/{DEMO_TABLE}/records"


@dataclass
class AirtableSystem:
    ingress_url: str
    airtable_url: str
    redis_url: str


def config_text(api_url: str, *, pause_s: float) -> str:
    return f"""
log_format = "json"
[ingress]
publish_keys = ["integration-key"]
[workers]
min_backoff_s = 0.1
max_backoff_s = 1.0
[airtable]
api_url = "{api_url}"
token = "test-token"
pause_after_429_s = {pause_s}
request_timeout_s = 5
"""


def start_system(tmp_path: Path, redis_url: str, api_url: str, *,
                 pause_s: float = 2.0) -> tuple[Supervisor, str]:
    config = tmp_path / "hookstream.toml"
    config.write_text(config_text(api_url, pause_s=pause_s))
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKSTREAM_")}
    env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=redis_url)
    port = free_port()
    supervisor = Supervisor(env, log_dir=str(tmp_path), restart=False)
    supervisor.start("ingress", processes.ingress(port))
    supervisor.start("worker", processes.worker(threads=4))
    url = f"http://127.0.0.1:{port}"
    wait_http_ok(f"{url}/readyz")
    return supervisor, url


@pytest.fixture
def emulator():
    server = start_emulator(rate_per_s=5, penalty_s=2.0)
    yield server
    server.stop()


@pytest.fixture
def system(tmp_path, redis_url, emulator) -> Iterator[AirtableSystem]:
    supervisor, url = start_system(tmp_path, redis_url, emulator.url)
    try:
        yield AirtableSystem(url, emulator.url, redis_url)
    finally:
        supervisor.stop()
        print_logs(tmp_path)


def print_logs(tmp_path: Path) -> None:
    for log in sorted(tmp_path.glob("*.log")):
        print(f"----- {log.name} (tail) -----\n{log.read_text(errors='replace')[-3000:]}")


def wait_job(ingress_url: str, job_id: str, *, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        state = httpx.get(f"{ingress_url}/airtable/jobs/{job_id}", headers=KEY).json()
        if state["state"] in ("completed", "failed"):
            return state
        assert time.monotonic() < deadline, f"job still {state['state']}: {state}"
        time.sleep(0.1)


def table_records(url: str) -> list[dict]:
    records, offset = [], None
    while True:
        page = httpx.get(f"{url}/v0/{DEMO_BASE}/{DEMO_TABLE}", params={"offset": offset} if
                         offset else {}, headers={"Authorization": "Bearer t"}).json()
        records += page["records"]
        offset = page.get("offset")
        if not offset:
            return records


def job_events(redis_url: str, job_id: str) -> list[dict]:
    entries = redis.Redis.from_url(redis_url).xrange(STREAM_KEY)
    found = [orjson.loads(fields[b"e"]) for _, fields in entries]
    return [event for event in found if event["topic"] == f"airtable/jobs/{job_id}"]


def write(ingress_url: str, method: str, body: dict, **headers: str) -> str:
    response = httpx.request(method, f"{ingress_url}{RECORDS}", json=body,
                             headers={**KEY, **headers})
    assert response.status_code == 202, response.text
    return response.json()["job"]


def test_a_write_is_queued_sent_and_published(system):
    job_id = write(system.ingress_url, "POST", {"records": [{"fields": {"Name": f"w{i}"}}
                                                            for i in range(25)]})
    state = wait_job(system.ingress_url, job_id)
    assert (state["state"], state["succeeded"]) == ("completed", 25)
    assert all(record["ok"] for record in state["records"])
    names = [r["fields"]["Name"] for r in table_records(system.airtable_url)]
    assert sorted(n for n in names if n.startswith("w")) == sorted(f"w{i}" for i in range(25))
    (event,) = job_events(system.redis_url, job_id)
    assert event["type"] == "job.completed" and event["data"]["succeeded"] == 25


def test_a_429_pauses_the_base_and_the_write_drains_after_it(system):
    url = system.airtable_url
    for _ in range(6):  # another client exhausts the base: it is in its penalty
        httpx.get(f"{url}/v0/{DEMO_BASE}/{DEMO_TABLE}", headers={"Authorization": "Bearer t"})
    job_id = write(system.ingress_url, "POST", {"records": [{"fields": {"Name": "patient"}}]})
    state = wait_job(system.ingress_url, job_id)
    assert state["state"] == "completed"
    assert [r["fields"]["Name"] for r in table_records(url)].count("patient") == 1
    stats = httpx.get(f"{system.ingress_url}/airtable/stats").json()["bases"][DEMO_BASE]
    assert stats["throttled"] <= 1 and stats["pauses"] <= 1


def test_expect_conflicts_fail_alone(system):
    job_id = write(system.ingress_url, "PATCH", {"records": [
        {"id": "recTask0000000001", "fields": {"Points": 4}, "expect": {"Points": 3}},
        {"id": "recTask0000000002", "fields": {"Points": 9}, "expect": {"Points": 1}}]})
    state = wait_job(system.ingress_url, job_id)
    assert (state["state"], state["succeeded"], state["failed"]) == ("failed", 1, 1)
    assert state["records"][1]["error"] == "conflict"
    assert state["records"][1]["current"]["Points"] == 5
    (event,) = job_events(system.redis_url, job_id)
    assert event["type"] == "job.failed"


def test_reads_hit_miss_and_are_invalidated_by_writes(system):
    get = lambda: httpx.get(f"{system.ingress_url}{RECORDS}", headers=KEY)  # noqa: E731
    first, second = get(), get()
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    sent = admin(system.airtable_url, "GET", f"/bases/{DEMO_BASE}/stats")["requests"]
    assert get().headers["X-Cache"] == "hit"
    assert admin(system.airtable_url, "GET", f"/bases/{DEMO_BASE}/stats")["requests"] == sent
    job_id = write(system.ingress_url, "PATCH", {"records": [
        {"id": "recTask0000000003", "fields": {"Owner": "Barbara"}}]})
    wait_job(system.ingress_url, job_id)
    fresh = get()
    assert fresh.headers["X-Cache"] == "miss" and b"Barbara" in fresh.content
    # A change event of the table (the change sync INCRs its generation) does the same.
    redis.Redis.from_url(system.redis_url).incr(f"hookstream:airtable:gen:{DEMO_BASE}:{DEMO_TABLE}")
    assert get().headers["X-Cache"] == "miss"


class LosingProxy:
    """Forwards to the emulator, but drops the answer of the first create (a lost reply)."""

    def __init__(self, target: str) -> None:
        self.lost = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection")}
                answer = httpx.request(self.command, target + self.path, content=body,
                                       headers=headers)
                if self.command == "POST" and not proxy.lost:
                    proxy.lost += 1
                    self.close_connection = True
                    self.connection.close()  # written in Airtable, the reply never arrives
                    return
                self.send_response(answer.status_code)
                for name in ("content-type", "retry-after"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PATCH = do_DELETE = _forward

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_retried_create_whose_reply_was_lost_writes_once(tmp_path, redis_url, emulator):
    proxy = LosingProxy(emulator.url)
    supervisor, ingress_url = start_system(tmp_path, redis_url, proxy.url)
    try:
        job_id = write(ingress_url, "POST", {"records": [{"fields": {"Name": f"once{i}"}}
                                                         for i in range(3)]})
        state = wait_job(ingress_url, job_id)
        assert proxy.lost == 1
        assert (state["state"], state["succeeded"]) == ("completed", 3)
        names = [r["fields"]["Name"] for r in table_records(emulator.url)]
        assert sorted(n for n in names if n.startswith("once")) == ["once0", "once1", "once2"]
        assert len({r["id"] for r in state["records"]}) == 3
    finally:
        supervisor.stop()
        proxy.close()
        print_logs(tmp_path)


def test_writes_are_accepted_while_airtable_is_down_and_drain_when_it_returns(tmp_path,
                                                                            redis_url):
    port = free_port()
    supervisor, ingress_url = start_system(tmp_path, redis_url, f"http://127.0.0.1:{port}")
    server = None
    try:
        job_id = write(ingress_url, "POST", {"records": [{"fields": {"Name": "offline"}}]},
                       **{"Idempotency-Key": "offline-1"})
        again = write(ingress_url, "POST", {"records": [{"fields": {"Name": "offline"}}]},
                      **{"Idempotency-Key": "offline-1"})
        assert again == job_id
        deadline = time.monotonic() + 30
        while httpx.get(f"{ingress_url}/airtable/jobs/{job_id}",
                        headers=KEY).json()["state"] != "waiting":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        server = EmulatorThread(build(seed="demo", rate_per_s=5, penalty_s=2.0),
                                port=port).start()
        state = wait_job(ingress_url, job_id)
        assert state["state"] == "completed"
        assert [r["fields"]["Name"] for r in table_records(server.url)].count("offline") == 1
    finally:
        supervisor.stop()
        if server is not None:
            server.stop()
        print_logs(tmp_path)

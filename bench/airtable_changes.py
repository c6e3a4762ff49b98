"""Airtable change-ping-to-SSE latency, with real processes and the local emulator.

    flock /tmp/hookstream-bench.lock .venv/bin/python -m bench.airtable_changes [N] [RATE]

An embedded Valkey; gunicorn (ingress), a dramatiq worker and uvicorn (streamer)
as `hookstream` runs them; the Airtable emulator (5 requests/s per base, as
Airtable) in its own process; a webhook created with the domain's `Webhooks`; an SSE
client on ``airtable/{base}/{table}/+``. N changes (default 120) are made "by a
person" (the emulator's admin API) at RATE per second (default 2.5, under the
per-base limit since each ping costs one payload request). For each change:

- total: the emulator starts POSTing the ping -> the SSE client reads the event;
- to fetch: ping -> the emulator receives the worker's payload request (ingress
  verify + enqueue, worker pickup, schema from Redis); of which the ping's POST
  (the ingress answering 202 once the job is in Redis);
- after fetch: the payload request arrives -> the SSE client reads the event
  (the payload answer's transit, publish, streamer fan-out).

"Beyond the payload fetch" = total minus the fetch's own round trip, measured
here as the median of the same payload request made from this process.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import redis

from common.settings import Settings
from domains.airtable.services import budgeted_api_factory
from domains.airtable.webhooks import Webhooks
from hookstream import processes
from hookstream.embedded import EmbeddedRedis, free_port
from hookstream.supervisor import Supervisor, wait_http_ok

BASE, TABLE = "appHookstreamDemo", "tblTasks000000001"
TOKEN = "bench-token"
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "airtable_changes.txt"


def config_text(api_url: str) -> str:
    return f"""
log_format = "json"
log_level = "warning"
[streamer]
public_topics = ["airtable/#"]
[ingress]
publish_keys = ["bench-key"]
[sources.airtable]
kind = "airtable"
[airtable]
api_url = "{api_url}"
token = "{TOKEN}"
"""


class Stream:
    """An SSE client in a thread: each event's envelope id with the time it was read."""

    def __init__(self, url: str, topic: str) -> None:
        self.arrivals: dict[str, float] = {}
        self.ready = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._thread = threading.Thread(target=self._run, args=(url, topic), daemon=True)
        self._thread.start()

    def _run(self, url: str, topic: str) -> None:
        try:
            with self._client.stream("GET", url, params={"topic": topic}) as response:
                for line in response.iter_lines():
                    if line.startswith("retry:"):
                        self.ready.set()
                    if line.startswith("data:"):
                        at_ms = time.time() * 1000
                        self.arrivals[json.loads(line[5:])["id"]] = at_ms
        except httpx.HTTPError:
            pass

    def close(self) -> None:
        self._client.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def fetch_round_trip_ms(emulator_url: str, webhook: str, samples: int = 20) -> float:
    times = []
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        for _ in range(samples):
            started = time.perf_counter()
            client.get(f"{emulator_url}/v0/bases/{BASE}/webhooks/{webhook}/payloads",
                       params={"cursor": 10**6})
            times.append((time.perf_counter() - started) * 1000)
            time.sleep(0.25)  # stay under the base's 5 requests/s
    return statistics.median(times)


def admin(url: str, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{url}/_admin{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def run(changes: int, rate_per_s: float, work: Path) -> str:
    store = EmbeddedRedis(work / "valkey", durable=False).start()
    emulator_url = f"http://127.0.0.1:{free_port()}"
    config = work / "hookstream.toml"
    config.write_text(config_text(emulator_url))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKSTREAM_")}
    env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=store.url)
    ports = processes.Ports(ingress=free_port(), streamer=free_port())
    supervisor = Supervisor(env, cwd=str(ROOT), log_dir=str(work), restart=False)
    client = redis.Redis.from_url(store.url)
    try:
        supervisor.start("emulator", [sys.executable, "-m", "domains.airtable.emulator",
                                      "--port", emulator_url.rsplit(":", 1)[1], "--seed", "demo",
                                      "--token", TOKEN])
        wait_http_ok(f"{emulator_url}/_admin/clock")
        emulator = SimpleNamespace(url=emulator_url)
        supervisor.start("ingress", processes.ingress(ports.ingress))
        supervisor.start("streamer", processes.streamer(ports.streamer))
        supervisor.start("worker", processes.worker(processes=1, threads=4))
        wait_http_ok(f"http://127.0.0.1:{ports.ingress}/readyz")
        wait_http_ok(f"http://127.0.0.1:{ports.streamer}/readyz")
        settings = Settings.model_validate({"airtable": {"api_url": emulator.url,
                                                         "token": TOKEN}})
        webhooks = Webhooks(client, budgeted_api_factory(client, settings, max_wait_s=10),
                            namespace="hookstream")
        hook = webhooks.create(BASE, f"http://127.0.0.1:{ports.ingress}/webhooks/airtable",
                               table=TABLE)
        stream = Stream(f"http://127.0.0.1:{ports.streamer}/events", f"airtable/{BASE}/{TABLE}/+")
        stream.ready.wait(10)
        warm(emulator.url, stream, hook.id)
        time.sleep(1.5)
        round_trip_ms = fetch_round_trip_ms(emulator.url, hook.id)
        time.sleep(1.5)
        asked = make_changes(emulator.url, changes, rate_per_s)
        expected = {f"at:{hook.id}:{n}:recTask0000000001" for n in asked}
        deadline = time.monotonic() + 60
        while not expected <= stream.arrivals.keys() and time.monotonic() < deadline:
            time.sleep(0.1)
        report = measure(emulator.url, hook.id, stream, asked, round_trip_ms, rate_per_s)
        stream.close()
        return report
    finally:
        supervisor.stop()
        client.close()
        store.stop()


def warm(url: str, stream: Stream, webhook: str) -> None:
    """One change first, so connections and the schema cache are warm."""
    admin(url, "POST", f"/bases/{BASE}/changes",
          {"table": TABLE, "update": [{"id": "recTask0000000002", "fields": {"Points": 0}}]})
    deadline = time.monotonic() + 30
    while f"at:{webhook}:1:recTask0000000002" not in stream.arrivals:
        if time.monotonic() > deadline:
            raise RuntimeError("the warm-up change never reached the stream")
        time.sleep(0.05)


def make_changes(url: str, count: int, rate_per_s: float) -> dict[int, float]:
    """Transaction number -> when the change was asked for (ms since the epoch)."""
    asked: dict[int, float] = {}
    started = time.monotonic()
    for index in range(count):
        time.sleep(max(0.0, started + index / rate_per_s - time.monotonic()))
        asked_ms = time.time() * 1000
        answer = admin(url, "POST", f"/bases/{BASE}/changes", {"table": TABLE, "update": [
            {"id": "recTask0000000001", "fields": {"Points": 1000 + index}}]})
        asked[answer["transaction"]] = asked_ms
    return asked


def measure(url: str, webhook: str, stream: Stream, asked: dict[int, float],
            round_trip_ms: float, rate_per_s: float) -> str:
    pings = admin(url, "GET", f"/bases/{BASE}/webhooks/{webhook}/pings")["pings"]
    fetches = admin(url, "GET", f"/bases/{BASE}/webhooks/{webhook}/fetches")["fetches"]
    total, to_fetch, after_fetch, ingress = [], [], [], []
    numbers = sorted(asked)
    for number in numbers:
        arrived = stream.arrivals.get(f"at:{webhook}:{number}:recTask0000000001")
        ping = next((p for p in pings if p["sent_at_ms"] >= asked[number]), None)
        fetch = next((f for f in fetches if number in f["transactions"]), None)
        if arrived is None or ping is None or fetch is None:
            continue
        total.append(arrived - ping["sent_at_ms"])
        ingress.append(ping["duration_ms"])
        to_fetch.append(fetch["started_ms"] - ping["sent_at_ms"])
        after_fetch.append(arrived - fetch["started_ms"])
    beyond = [t - round_trip_ms for t in total]
    lost = len(numbers) - len(total)
    when = time.strftime("%Y-%m-%d %H:%MZ", time.gmtime())
    load = "/".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        f"Airtable change-ping-to-SSE latency ({len(numbers)} changes at {rate_per_s}/s, "
        f"1 worker process, emulator at 5 requests/s per base; {when}, 2 shared CPUs, "
        f"load average {load})",
        f"{'':28} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}",
    ]
    for name, values in (("total (ping -> SSE)", total), ("ping -> payload request", to_fetch),
                         ("  of which the ping's POST", ingress),
                         ("payload request -> SSE", after_fetch),
                         ("beyond the payload fetch", beyond)):
        lines.append(f"{name:28} {percentile(values, .5):8.1f} {percentile(values, .99):8.1f} "
                     f"{max(values):8.1f}")
    lines.append(f"payload fetch round trip (median, measured apart): {round_trip_ms:.1f} ms; "
                 f"events missing: {lost}; pings retried: "
                 f"{sum(1 for p in pings if not 200 <= p['status'] < 300)}")
    return "\n".join(lines)


def main() -> None:
    changes = int(sys.argv[1]) if len(sys.argv) > 1 else 120
    rate_per_s = float(sys.argv[2]) if len(sys.argv) > 2 else 2.5
    with tempfile.TemporaryDirectory(prefix="bench-airtable-") as work:
        report = run(changes, rate_per_s, Path(work))
    print(report)
    earlier = RESULTS.read_text() if RESULTS.exists() else ""
    RESULTS.write_text(report + "\n\n" + earlier)  # newest first, earlier runs kept


if __name__ == "__main__":
    main()

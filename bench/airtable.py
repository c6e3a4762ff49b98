"""Airtable write bench: queued writes under the shared budget beside stock pyairtable, same run.

    flock /tmp/hookstream-bench.lock .venv/bin/python -m bench.airtable

Real processes: an embedded Valkey, the Airtable emulator
(``python -m domains.airtable.emulator``, 5 requests/s per base over any sliding
second, the real 30 s penalty: not shortened), the gunicorn ingress and
``hookstream worker --processes 4 --threads 4``. Figures:

- sustained writes into one base, then into two bases at once: every record
  POSTed to the ingress as jobs of 40 records, timed from the first POST to the
  last job's completion; the emulator's own counters give the busiest sliding
  second of requests (attempts, refused ones included) and the 429 count;
- stock pyairtable (``Api.table().batch_create`` of 10 records in a loop, its
  default 429 retry) into a third base for the same kind of load;
- read latency through the ingress: a cached read (``X-Cache: hit``) vs an
  uncached one (the table's generation bumped before each, as a change event does;
  0.25 s apart, so each finds its base's next slot free).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyairtable
import redis
import requests

from hookstream import processes
from hookstream.embedded import EmbeddedRedis, free_port
from hookstream.supervisor import Supervisor, wait_http_ok

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key"
TOKEN = "bench-token"
JOB_RECORDS = 40
ONE_BASE_RECORDS = 1_440  # ~30 s at 48 records/s
TWO_BASE_RECORDS = 2_880
STOCK_SECONDS = 20.0
CACHED_READS, UNCACHED_READS = 200, 20
BASES = ("appBenchOne000001", "appBenchTwo000001", "appBenchStock0001")
TABLE = "tblBenchRows00001"
FIELDS = [{"id": "fldBenchName00001", "name": "Name", "type": "singleLineText"},
          {"id": "fldBenchN00000001", "name": "N", "type": "number"}]


@dataclass
class Bench:
    ingress: str
    airtable: str
    client: redis.Redis

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.airtable}/_admin{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def stats(self, base: str) -> dict[str, Any]:
        return dict(self.admin("GET", f"/bases/{base}/stats"))


def config(airtable_url: str) -> str:
    return f"""
log_format = "json"
log_level = "warning"
[ingress]
publish_keys = ["{KEY}"]
max_body_bytes = 4194304
[airtable]
api_url = "{airtable_url}"
token = "{TOKEN}"
"""


def create_bases(bench: Bench) -> None:
    for base in BASES:
        bench.admin("POST", "/bases", json={"id": base, "name": base, "tables": [
            {"id": TABLE, "name": "Rows", "fields": FIELDS}]})


def submit(bench: Bench, base: str, total: int, tag: str) -> list[str]:
    jobs = []
    with httpx.Client(timeout=30) as http:
        for start in range(0, total, JOB_RECORDS):
            records = [{"fields": {"Name": f"{tag}{i}", "N": i}}
                       for i in range(start, min(total, start + JOB_RECORDS))]
            response = http.post(f"{bench.ingress}/airtable/{base}/{TABLE}/records",
                                 json={"records": records},
                                 headers={"Authorization": f"Bearer {KEY}"})
            response.raise_for_status()
            jobs.append(response.json()["job"])
    return jobs


def wait_jobs(bench: Bench, jobs: list[str], *, timeout_s: float = 600) -> dict[str, int]:
    deadline = time.monotonic() + timeout_s
    pending, outcome = list(jobs), {"succeeded": 0, "failed": 0}
    with httpx.Client(timeout=30) as http:
        while pending:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(pending)} jobs not finished")
            state = http.get(f"{bench.ingress}/airtable/jobs/{pending[0]}",
                             headers={"Authorization": f"Bearer {KEY}"}).json()
            if state["state"] in ("completed", "failed"):
                outcome["succeeded"] += state["succeeded"]
                outcome["failed"] += state["failed"]
                pending.pop(0)
            else:
                time.sleep(0.05)
    return outcome


def run_writes(bench: Bench, bases: tuple[str, ...], total: int) -> list[str]:
    for base in bases:
        bench.admin("POST", f"/bases/{base}/stats/reset")
    before = httpx.get(f"{bench.ingress}/airtable/stats").json()["bases"]
    started = time.monotonic()
    per_base = total // len(bases)
    submitted: dict[str, list[str]] = {}
    threads = [threading.Thread(target=lambda b=base: submitted.__setitem__(
        b, submit(bench, b, per_base, f"{b[-6:]}-"))) for base in bases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome = wait_jobs(bench, [job for base in bases for job in submitted[base]])
    elapsed_s = time.monotonic() - started
    lines = [f"  {outcome['succeeded']} records written ({outcome['failed']} failed) in "
             f"{elapsed_s:.1f} s: {outcome['succeeded'] / elapsed_s:.1f} records/s "
             f"(target {47.5 * len(bases):.1f})"]
    ours = httpx.get(f"{bench.ingress}/airtable/stats").json()["bases"]
    for base in bases:
        stats = bench.stats(base)
        budget = {k: ours.get(base, {}).get(k, 0) - before.get(base, {}).get(k, 0)
                  for k in ("granted", "held", "busy")}
        lines.append(f"  {base}: {stats['requests']} requests, busiest sliding second "
                     f"{stats['peak_attempts_per_s']} requests, 429s {stats['rejected']}, "
                     f"penalties {stats['penalties']}; budget: {budget['granted']} slots, "
                     f"{budget['held']} sends held back a few ms, {budget['busy']} busy")
    return lines


def run_stock(bench: Bench) -> list[str]:
    base = BASES[2]
    api = pyairtable.Api(TOKEN, endpoint_url=bench.airtable)  # default retry strategy
    table = api.table(base, TABLE)
    written = errors = 0
    started = time.monotonic()
    first_error_s: float | None = None
    longest_call_s = 0.0
    while time.monotonic() - started < STOCK_SECONDS:
        call_started = time.monotonic()
        try:
            table.batch_create([{"Name": f"stock{written + i}", "N": i} for i in range(10)])
            written += 10
        except requests.HTTPError:
            errors += 1
            first_error_s = first_error_s or time.monotonic() - started
        longest_call_s = max(longest_call_s, time.monotonic() - call_started)
    elapsed_s = time.monotonic() - started
    stats = bench.stats(base)
    return [f"  {written} records in {elapsed_s:.1f} s: {written / elapsed_s:.1f} records/s; "
            f"{errors} batch_create calls raised; longest call {longest_call_s:.1f} s "
            "(urllib3's retry sleeps out the Retry-After of the penalty)",
            f"  {base}: {stats['requests']} requests, busiest sliding second "
            f"{stats['peak_attempts_per_s']} requests, 429s {stats['rejected']}, "
            f"penalties {stats['penalties']}, still penalised for "
            f"{stats['penalised_for_s']:.0f} s"]


def run_reads(bench: Bench) -> list[str]:
    base = BASES[1]
    bench.admin("POST", f"/bases/{base}/stats/reset")
    url = f"{bench.ingress}/airtable/{base}/{TABLE}/records"
    generation = f"hookstream:airtable:gen:{base}:{TABLE}"
    headers = {"Authorization": f"Bearer {KEY}"}
    cached: list[float] = []
    uncached: list[float] = []
    with httpx.Client(timeout=60) as http:
        http.get(url, headers=headers, params={"maxRecords": 100}).raise_for_status()
        for _ in range(CACHED_READS):
            cached.append(timed(http, url, headers, "hit"))
        for _ in range(UNCACHED_READS):
            time.sleep(0.25)  # the base's next slot is free: this times the fetch, not a queue
            bench.client.incr(generation)
            uncached.append(timed(http, url, headers, "miss"))
    stats = bench.stats(base)
    return [f"  cached    p50 {pct(cached, 50):7.2f} ms  p99 {pct(cached, 99):7.2f} ms  "
            f"(n={len(cached)}, 100 records)",
            f"  uncached  p50 {pct(uncached, 50):7.2f} ms  p99 {pct(uncached, 99):7.2f} ms  "
            f"(n={len(uncached)}, 0.25 s apart; a miss is one budgeted Airtable request)",
            f"  {base}: {stats['requests']} requests for {1 + CACHED_READS + UNCACHED_READS} "
            f"reads, 429s {stats['rejected']}"]


def timed(http: httpx.Client, url: str, headers: dict[str, str], expect: str) -> float:
    start = time.perf_counter()
    response = http.get(url, headers=headers, params={"maxRecords": 100})
    elapsed_ms = (time.perf_counter() - start) * 1000
    response.raise_for_status()
    if response.headers["X-Cache"] != expect:
        raise RuntimeError(f"expected X-Cache {expect}, got {response.headers['X-Cache']}")
    return elapsed_ms


def pct(values: list[float], q: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


def phase(run: Any, *args: Any) -> list[str]:
    """One part of the report; a failing part is reported, the others still run."""
    try:
        lines: list[str] = run(*args)
    except Exception as exc:  # the bench reports it and goes on
        lines = [f"  FAILED: {type(exc).__name__}: {exc}"]
    print("\n".join(lines), flush=True)
    return lines


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-airtable-"))
    server = EmbeddedRedis(workdir / "valkey", durable=False).start()
    airtable_port, ingress_port = free_port(), free_port()
    airtable = f"http://127.0.0.1:{airtable_port}"
    (workdir / "hookstream.toml").write_text(config(airtable))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKSTREAM_")}
    env.update(HOOKSTREAM_CONFIG=str(workdir / "hookstream.toml"),
               HOOKSTREAM_REDIS_URL=server.url)
    supervisor = Supervisor(env, cwd=str(ROOT), log_dir=str(workdir), restart=False)
    supervisor.start("airtable", [sys.executable, "-m", "domains.airtable.emulator", "--port",
                                  str(airtable_port), "--penalty-s", "30"])
    supervisor.start("ingress", processes.ingress(ingress_port))
    supervisor.start("worker", processes.worker(processes=4, threads=4))
    try:
        ingress = f"http://127.0.0.1:{ingress_port}"
        wait_http_ok(f"{ingress}/readyz")
        wait_http_ok(f"{airtable}/_admin/clock")
        bench = Bench(ingress, airtable, redis.Redis.from_url(server.url))
        create_bases(bench)
        time.sleep(2)  # let the four worker processes finish starting
        report = [f"bench.airtable  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  "
                  f"{os.cpu_count()} CPUs  Python {sys.version.split()[0]}  "
                  "(loopback; emulator 5 req/s per base, 30 s penalty)", "",
                  "hookstream: sustained writes, one base, 4 worker processes x 4 threads"]
        report += phase(run_writes, bench, BASES[:1], ONE_BASE_RECORDS)
        report += ["", "hookstream: sustained writes, two bases at once"]
        report += phase(run_writes, bench, BASES[:2], TWO_BASE_RECORDS)
        report += ["", "stock pyairtable: batch_create of 10 in a loop (its 429 retry on)"]
        report += phase(run_stock, bench)
        report += ["", "reads through the ingress (GET .../records, 100 records)"]
        report += phase(run_reads, bench)
        print("\n".join(report))
        out = ROOT / "bench" / "results" / "airtable.txt"
        out.write_text("\n".join(report) + "\n")
    finally:
        supervisor.stop(timeout_s=20)
        server.stop()


if __name__ == "__main__":
    main()

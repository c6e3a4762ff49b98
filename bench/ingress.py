"""Ingress benchmark: signed, deduplicated, enqueued webhooks per second, in one run.

    flock /tmp/hookstream-bench.lock .venv/bin/python -m bench.ingress

Measures, against one embedded Valkey (AOF, everysec) on loopback, with wrk as the
separate load generator (pre-signed Standard Webhooks requests, unique ids):
  1. ours:          the real ingress command (hookstream/processes.py)
  2. naive:         Falcon WSGI, gunicorn sync workers, dramatiq send() per request
  3. trivial-asgi:  a 202 on our server stack (the ceiling of our stack)
  4. trivial-sync:  a 202 on the naive server (gunicorn sync)
then the p50/p99 latency of ours and naive at a fixed 2,000 webhooks/s from an
open-loop client. Throughput is what landed in dramatiq's queue, per second.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
import uvloop

from api.verifiers.standard import new_secret, sign
from bench.loadgen import run_open_loop
from common.keys import messages_key
from common.redis import connect
from hookstream import processes
from hookstream.embedded import EmbeddedRedis, free_port
from hookstream.supervisor import Supervisor, wait_http_ok

HERE = Path(__file__).resolve().parent
DURATION_S = int(os.environ.get("BENCH_DURATION_S", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
UNIQUE_PER_THREAD = int(os.environ.get("BENCH_UNIQUE_PER_THREAD", "90000"))
FIXED_RATE_PER_S = 2_000
FIXED_RATE_S = 8
WARMUP_S = 0.5
SOURCE = "bench"
MSGS_KEY = messages_key("hookstream", "deliveries")


@dataclass
class Throughput:
    name: str
    requests_per_s: float
    enqueued: int
    non_2xx: int
    p50_ms: float
    p99_ms: float
    sent: int
    unique: int

    @property
    def enqueued_per_s(self) -> float:
        return self.enqueued / DURATION_S


def config_text(secret: str) -> str:
    return f"""log_format = "json"
log_level = "info"
[ingress]
max_body_bytes = 65536
[sources.{SOURCE}]
kind = "standard-webhooks"
secrets = ["{secret}"]
topic = "orders/{{data.customer_id}}"
"""


def raw_request(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}",
             "Content-Type: application/json", f"Content-Length: {len(body)}",
             *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def signed_requests(secret: str, port: int, path: str, count: int, tag: str) -> list[bytes]:
    now = int(time.time())
    requests = []
    for index in range(count):
        body = (b'{"type":"order.paid","data":{"customer_id":"cus_%d","order":%d,'
                b'"amount":4200,"currency":"eur"}}' % (index % 97, index))
        headers = sign(secret, f"msg_{tag}_{index}", now, body)
        requests.append(raw_request(port, path, body, headers))
    return requests


def write_request_files(prefix: Path, per_thread: list[list[bytes]]) -> None:
    for number, requests in enumerate(per_thread, start=1):
        Path(f"{prefix}.{number}").write_bytes(b"\0".join(requests) + b"\0")


def run_wrk(url: str, prefix: Path) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "--timeout", "5s",
               "-s", str(HERE / "wrk_requests.lua"), url, "--", str(prefix)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non_2xx"] = float(non_2xx.group(1)) if non_2xx else 0.0
    sent = [tuple(map(int, m)) for m in re.findall(r"thread-sent (\d+) (\d+)", output)]
    figures["sent"] = float(sum(s for s, _ in sent))
    figures["unique"] = float(sum(min(s, n) for s, n in sent))
    for pct in ("p50", "p99"):
        found = re.search(rf"latency-{pct}-us (\d+)", output)
        figures[pct] = int(found.group(1)) / 1000 if found else float("nan")
    return figures


@contextmanager
def server(name: str, argv: list[str], env: dict[str, str], ready_url: str,
           log_dir: Path) -> Iterator[None]:
    supervisor = Supervisor(env, log_dir=str(log_dir), restart=False)
    supervisor.start(name, argv)
    try:
        wait_http_ok(ready_url, timeout_s=60)
        yield
    finally:
        supervisor.stop()


def gunicorn(port: int, worker_class: str, workers: int, app: str) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
            str(workers), "--worker-class", worker_class, "--no-control-socket",
            "--log-level", "warning", app]


def measure(name: str, argv: list[str], port: int, path: str, ready_path: str, *,
            env: dict[str, str], client: redis.Redis, secret: str, work: Path) -> Throughput:
    client.flushall()
    prefix = work / f"requests-{name}"
    tag = uuid.uuid4().hex[:8]
    write_request_files(prefix, [signed_requests(secret, port, path, UNIQUE_PER_THREAD,
                                                 f"{tag}t{thread}") for thread in (1, 2)])
    with server(name, argv, env, f"http://127.0.0.1:{port}{ready_path}", work):
        figures = run_wrk(f"http://127.0.0.1:{port}", prefix)
    return Throughput(name, figures["rps"], int(client.hlen(MSGS_KEY)), int(figures["non_2xx"]),
                      figures["p50"], figures["p99"], int(figures["sent"]),
                      int(figures["unique"]))


def fixed_rate(name: str, argv: list[str], port: int, ready_path: str, *, env: dict[str, str],
               client: redis.Redis, secret: str, work: Path) -> str:
    client.flushall()
    warmup = int(FIXED_RATE_PER_S * WARMUP_S)
    count = FIXED_RATE_PER_S * FIXED_RATE_S + warmup
    requests = signed_requests(secret, port, f"/webhooks/{SOURCE}", count, uuid.uuid4().hex[:8])
    with server(name, argv, env, f"http://127.0.0.1:{port}{ready_path}", work):
        result = uvloop.run(run_open_loop("127.0.0.1", port, requests,
                                          rate_per_s=FIXED_RATE_PER_S, warmup=warmup))
    slow = sorted((lat, i) for i, lat in result.by_index.items())[-20:]
    if os.environ.get("BENCH_DEBUG"):
        print("slowest (latency_s, index):", [(round(a, 3), b) for a, b in slow])
    return (f"{name:13s} at {FIXED_RATE_PER_S}/s for {FIXED_RATE_S} s after {WARMUP_S} s warm-up: "
            f"p50 {result.percentile_ms(50):6.2f} ms  p99 {result.percentile_ms(99):6.2f} ms  "
            f"statuses {dict(sorted(result.statuses.items()))}  enqueued {client.hlen(MSGS_KEY)}  "
            f"reconnects {result.reconnects}")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="hookstream-bench-"))
    store = EmbeddedRedis(work / "valkey", durable=True).start()
    try:
        run_all(work, store)
    finally:
        store.stop()
        shutil.rmtree(work, ignore_errors=True)


def run_all(work: Path, store: EmbeddedRedis) -> None:
    secret = new_secret()
    config = work / "bench.toml"
    config.write_text(config_text(secret))
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKSTREAM_")}
    env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=store.url)
    client = connect(store.url, health_check_interval_s=0)
    port = free_port()
    ours = processes.ingress(port, workers=int(os.environ.get("BENCH_WORKERS", "2")))
    if os.environ.get("BENCH_WORKER_CLASS"):  # try another ASGI worker class
        ours[ours.index(processes.INGRESS_WORKER_CLASS)] = os.environ["BENCH_WORKER_CLASS"]
    naive = gunicorn(port, "sync", 4, "bench.naive_ingress:get_app()")
    trivial = gunicorn(port, processes.INGRESS_WORKER_CLASS, 2, "bench.trivial_asgi:get_app()")
    common = {"env": env, "client": client, "secret": secret, "work": work}
    if os.environ.get("BENCH_ONLY") == "ours":  # a quick look while tuning
        print(measure("ours", ours, port, f"/webhooks/{SOURCE}", "/readyz", **common))
        print(fixed_rate("ours", ours, port, "/readyz", **common))
        return
    rounds = []
    for _ in range(ROUNDS):  # alternate, so a load swing on this shared box hits both
        rounds.append((measure("ours", ours, port, f"/webhooks/{SOURCE}", "/readyz", **common),
                       measure("naive", naive, port, f"/webhooks/{SOURCE}", "/trivial",
                               **common)))
    results = [
        *(r for pair in rounds for r in pair),
        measure("trivial-asgi", trivial, port, "/trivial", "/trivial", **common),
        measure("trivial-sync", naive, port, "/trivial", "/trivial", **common),
    ]
    fixed = [fixed_rate("ours", ours, port, "/readyz", **common),
             fixed_rate("naive", naive, port, "/trivial", **common)]
    report(results, rounds, fixed)


def report(results: list[Throughput], rounds: list[tuple[Throughput, Throughput]],
           fixed: list[str]) -> None:
    print(f"hookstream ingress bench: {os.cpu_count()} cores, wrk -t2 -c{CONNECTIONS} "
          f"-d{DURATION_S}s on the same machine, Valkey AOF everysec, loopback")
    print(f"{'design':13s} {'req/s':>9s} {'enqueued/s':>11s} {'non-2xx':>8s} "
          f"{'p50 ms':>7s} {'p99 ms':>7s} {'sent':>8s} {'unique':>8s}")
    for r in results:
        enq = f"{r.enqueued_per_s:11.0f}" if r.enqueued else f"{'-':>11s}"
        print(f"{r.name:13s} {r.requests_per_s:9.0f} {enq} {r.non_2xx:8d} {r.p50_ms:7.2f} "
              f"{r.p99_ms:7.2f} {r.sent:8d} {r.unique:8d}")
    by_name = {r.name: r for r in results}
    ratios = [ours.enqueued_per_s / naive.enqueued_per_s for ours, naive in rounds]
    ours_all = sum(o.enqueued for o, _ in rounds) / (DURATION_S * len(rounds))
    naive_all = sum(n.enqueued for _, n in rounds) / (DURATION_S * len(rounds))
    print(f"ours / naive (enqueued webhooks/s) per round: "
          f"{', '.join(f'{r:.2f}x' for r in ratios)}; over all rounds: "
          f"{ours_all:.0f} / {naive_all:.0f} = {ours_all / naive_all:.2f}x  (target >= 3x)")
    print(f"ours / trivial-asgi (req/s): "
          f"{ours_all / by_name['trivial-asgi'].requests_per_s:.2f}")
    print(f"naive / trivial-sync (req/s): "
          f"{naive_all / by_name['trivial-sync'].requests_per_s:.2f}")
    for line in fixed:
        print(line)


if __name__ == "__main__":
    main()

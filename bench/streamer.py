"""Streamer benchmark: our streamer against a raw-asyncio SSE ceiling, same run, same load.

    flock /tmp/hookstream-bench.lock .venv/bin/python -m bench.streamer [N ...]

For each N (default 1,000 and 10,000) and each server (raw ceiling, then the
hookstream streamer under uvicorn) it starts an embedded Valkey, the server and
a separate load-generator process (`bench.sse_load`), then reports:

- RSS per idle connection: (server RSS after N idle streams - before) / N;
- fan-out: one event appended (real `EventLog.publish`, XADD) reaching all N
  clients: p50/p99/max over every delivery of FANOUT_EVENTS single events;
- sustained: SUSTAINED_DELIVERIES_PER_S deliveries/s (events/s = that / N, all
  clients on one topic) for SUSTAINED_S: achieved rate, latency, losses, and
  server CPU microseconds per delivery (CPU time delta of the server process).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.fdlimit import raise_fd_limit
from common.events import Event
from common.publishing import EventLog
from common.redis import connect
from common.settings import EventLogSettings
from hookstream import processes
from hookstream.embedded import EmbeddedRedis, free_port
from hookstream.supervisor import wait_http_ok

TOPIC = "bench/all"
FANOUT_EVENTS = 5
FANOUT_GAP_S = 1.0
SUSTAINED_DELIVERIES_PER_S = 50_000
SUSTAINED_S = 10.0
SETTLE_S = 1.0
SETTLE_MAX_S = 30.0
FD_HEADROOM = 200
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
STREAMER_CONFIG = """
log_level = "warning"
log_format = "json"
[streamer]
public_topics = ["bench/#"]
max_connections = 100000
"""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int

    def rss_kb(self) -> int:
        fields = Path(f"/proc/{self.process.pid}/statm").read_text().split()
        return int(fields[1]) * PAGE_KB

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Load:
    """The load-generator process, driven over its stdin/stdout."""

    def __init__(self, port: int, count: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.sse_load", "127.0.0.1", str(port), TOPIC, str(count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("load generator exited")
        result: dict[str, Any] = json.loads(line)
        return result

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.read() if command != "quit" else {}

    def stop(self) -> None:
        self.ask("quit")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(name: str, redis_url: str, workdir: Path) -> Server:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKSTREAM_")}
    if name == "raw":
        argv = [sys.executable, "-m", "bench.raw_sse", str(port), redis_url,
                EventLogSettings().stream_key]
    else:
        config = workdir / "streamer.toml"
        config.write_text(STREAMER_CONFIG)
        env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=redis_url)
        argv = [*processes.streamer(port), "--backlog", "4096"]
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                               stderr=open(workdir / f"{name}.log", "ab"))  # noqa: SIM115
    server = Server(name, process, port)
    wait_ready(server)
    return server


def wait_ready(server: Server) -> None:
    if server.name != "raw":
        wait_http_ok(f"http://127.0.0.1:{server.port}/readyz")
        return
    import socket
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("raw server did not start")


def publish(log: EventLog, seq: int) -> None:
    log.publish(Event(topic=TOPIC, type="bench", data={"t": time.time_ns(), "seq": seq},
                      source="bench"))


def fanout(log: EventLog, load: Load, count: int) -> dict[str, Any]:
    load.ask("reset")
    for seq in range(FANOUT_EVENTS):
        publish(log, seq)
        time.sleep(FANOUT_GAP_S)
    return settle(load, FANOUT_EVENTS * count)


def settle(load: Load, expected: int) -> dict[str, Any]:
    """Report once everything arrived, or nothing more arrived for SETTLE_S."""
    result = load.ask("report")
    deadline = time.monotonic() + SETTLE_MAX_S
    while result["deliveries"] < expected and time.monotonic() < deadline:
        time.sleep(SETTLE_S)
        previous, result = result, load.ask("report")
        if result["deliveries"] == previous["deliveries"]:
            break
    return result


def sustained(log: EventLog, load: Load, server: Server, count: int) -> dict[str, Any]:
    events_per_s = SUSTAINED_DELIVERIES_PER_S / count
    total_events = int(events_per_s * SUSTAINED_S)
    load.ask("reset")
    cpu_before, started = server.cpu_s(), time.monotonic()
    for seq in range(total_events):
        due = started + seq / events_per_s
        time.sleep(max(0.0, due - time.monotonic()))
        publish(log, seq)
    result = settle(load, total_events * count)
    cpu_s = server.cpu_s() - cpu_before
    delivered = result["deliveries"]
    result.update(expected=total_events * count, lost=total_events * count - delivered,
                  cpu_us_per_delivery=round(cpu_s * 1e6 / max(delivered, 1), 2))
    return result


def run_one(name: str, count: int, redis_url: str, workdir: Path) -> dict[str, Any]:
    connect(redis_url, health_check_interval_s=0).flushall()
    server = start_server(name, redis_url, workdir)
    log = EventLog(connect(redis_url, health_check_interval_s=0), EventLogSettings())
    try:
        time.sleep(0.5)
        rss_before = server.rss_kb()
        load = Load(server.port, count)
        ready = load.read()
        time.sleep(SETTLE_S)
        rss_per_conn_kb = (server.rss_kb() - rss_before) / count
        result = {"server": name, "n": count, "connect_s": ready["connect_s"],
                  "rss_per_idle_conn_kb": round(rss_per_conn_kb, 2),
                  "fanout": fanout(log, load, count),
                  "sustained": sustained(log, load, server, count)}
        load.stop()
        return result
    except RuntimeError:
        print(f"{name} server log tail:\n{(workdir / f'{name}.log').read_text()[-2000:]}")
        raise
    finally:
        server.stop()


def describe_machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return (f"{os.cpu_count()} cores, {cpu}, {mem_kb // 1024 // 1024} GiB, "
            f"Linux {platform.release()}, Python {platform.python_version()}; "
            "server, load generator, Valkey and publisher on the same machine")


def print_pair(raw: dict[str, Any], ours: dict[str, Any]) -> None:
    count = ours["n"]
    rss_ratio = ours["rss_per_idle_conn_kb"] / max(raw["rss_per_idle_conn_kb"], 0.01)
    cpu_raw = raw["sustained"]["cpu_us_per_delivery"]
    cpu_ours = ours["sustained"]["cpu_us_per_delivery"]
    print(f"\n== N = {count:,} connections")
    print(f"{'':34}{'raw ceiling':>16}{'streamer':>16}{'ratio':>9}   target")
    row("RSS per idle connection (KB)", raw["rss_per_idle_conn_kb"],
        ours["rss_per_idle_conn_kb"], rss_ratio, "<= 15 KB")
    for key in ("p50_ms", "p99_ms", "max_ms"):
        row(f"fan-out 1 event, {key}", raw["fanout"].get(key), ours["fanout"].get(key), None,
            "p99 < 200 ms" if key == "p99_ms" else "")
    row("fan-out deliveries (expected)", raw["fanout"]["deliveries"],
        ours["fanout"]["deliveries"], None, f"{FANOUT_EVENTS * count:,}")
    row("sustained deliveries/s", raw["sustained"]["deliveries_per_s"],
        ours["sustained"]["deliveries_per_s"], None, f"{SUSTAINED_DELIVERIES_PER_S:,}")
    for key in ("p50_ms", "p99_ms", "max_ms"):
        row(f"sustained {key}", raw["sustained"].get(key), ours["sustained"].get(key), None,
            "p99 < 250 ms" if key == "p99_ms" else "")
    row("sustained lost", raw["sustained"]["lost"], ours["sustained"]["lost"], None, "0")
    row("CPU us per delivery", cpu_raw, cpu_ours, cpu_ours / max(cpu_raw, 0.01), "<= 2x raw")


def row(label: str, raw: Any, ours: Any, ratio: float | None, target: str) -> None:
    ratio_text = f"{ratio:8.2f}x" if ratio is not None else " " * 9
    print(f"{label:34}{_fmt(raw):>16}{_fmt(ours):>16}{ratio_text}   {target}")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"


def main(counts: list[int]) -> None:
    print("hookstream streamer benchmark")
    print(f"machine: {describe_machine()}")
    print(f"fan-out: {FANOUT_EVENTS} single events {FANOUT_GAP_S} s apart; sustained: "
          f"{SUSTAINED_DELIVERIES_PER_S:,} deliveries/s for {SUSTAINED_S} s, "
          "all clients on one topic")
    fd_limit = raise_fd_limit()
    skipped = [count for count in counts if count + FD_HEADROOM > fd_limit]
    for count in skipped:
        print(f"N = {count:,} skipped: RLIMIT_NOFILE is {fd_limit:,} here and cannot be raised")
    counts = [count for count in counts if count not in skipped]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        valkey = EmbeddedRedis(workdir / "valkey", durable=False).start()
        try:
            for count in counts:
                raw = run_one("raw", count, valkey.url, workdir)
                ours = run_one("streamer", count, valkey.url, workdir)
                print_pair(raw, ours)
                print("raw json:", json.dumps({"raw": raw, "streamer": ours}), flush=True)
        finally:
            valkey.stop()


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1_000, 10_000])

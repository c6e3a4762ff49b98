"""Worker benchmark: hookstream's broker beside stock dramatiq's RedisBroker, same run.

    flock /tmp/hookstream-bench.lock .venv/bin/python -m bench.workers

Each side gets its own embedded Valkey and real worker processes
(``dramatiq -p 2 -t 8`` for stock, ``hookstream worker -p 2 -t 8`` for
hookstream, which is two supervised ``dramatiq -p 1 -t 8``), and the same actors
(`bench.worker_actors`). Figures:

- idle pickup: enqueue -> actor start, one message at a time with 0.2-0.8 s gaps;
- pickup at 1,000 messages/s for 4 s, three rounds alternating stock and hookstream;
- no-op throughput: 12,000 messages preloaded, then drained by 2 processes; three
  rounds alternating stock and hookstream (this 2-core machine is shared), median shown;
- idle Redis calls per worker process per second: client round trips, and commands
  including those run inside scripts (both counted with MONITOR over 10 s);
- recovery after SIGKILL: kill the process running a job, time until it runs again
  (stock restarted by the same supervisor, as compose's restart policy would).
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from dramatiq.brokers.redis import RedisBroker

from bench.worker_actors import declare
from common.redis import connect
from common.settings import load_settings
from hookstream import processes
from hookstream.embedded import EmbeddedRedis
from hookstream.supervisor import Supervisor
from workers.brokers.redis import build_broker

PROCESSES, THREADS = 2, 8
IDLE_MESSAGES, IDLE_GAP_S = 30, (0.2, 0.8)
RATE_PER_S, RATE_SECONDS, RATE_ROUNDS = 1_000, 4, 3
THROUGHPUT_MESSAGES = 12_000
THROUGHPUT_ROUNDS = int(os.environ.get("BENCH_THROUGHPUT_ROUNDS", "3"))  # alternating, median shown
IDLE_WINDOW_S = 10.0
STOCK_RECOVERY_BOUND_S = 62.0
OURS_RECOVERY_BOUND_S = 60.0
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Side:
    name: str
    server: EmbeddedRedis
    env: dict[str, str]
    fleet_argv: list[str]
    extra: dict[str, list[str]] = field(default_factory=dict)
    actors: dict[str, Any] = field(default_factory=dict)
    supervisor: Supervisor | None = None
    client: redis.Redis = field(init=False)

    def __post_init__(self) -> None:
        self.client = connect(self.server.url, health_check_interval_s=0)

    def start(self, *, restart: bool = False, with_extra: bool = True) -> None:
        self.client.delete("hookstream:__heartbeats__")
        self.supervisor = Supervisor(self.env, cwd=str(ROOT), restart=restart,
                                     log_dir=self.env["BENCH_LOG_DIR"])
        self.supervisor.start("fleet", self.fleet_argv)
        for name, argv in (self.extra.items() if with_extra else []):
            self.supervisor.start(name, argv)
        wait_ready(self)

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop(timeout_s=20)
            self.supervisor = None


def make_side(name: str, tmp: Path) -> Side:
    server = EmbeddedRedis(tmp / name, durable=False).start()
    log_dir = tmp / f"{name}-logs"
    log_dir.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKSTREAM_")}
    env.update(BENCH_REDIS_URL=server.url, HOOKSTREAM_REDIS_URL=server.url,
               HOOKSTREAM_LOG_LEVEL="warning", BENCH_LOG_DIR=str(log_dir))
    if name == "stock":
        argv = [sys.executable, "-m", "dramatiq", "-p", str(PROCESSES), "-t", str(THREADS),
                "bench.stock_worker"]
        side = Side(name, server, env, argv)
        side.actors = declare(RedisBroker(url=server.url, namespace="hookstream"),
                              periodic=True)
        return side
    argv = processes.worker(processes=PROCESSES, threads=THREADS,
                            modules=("bench.hookstream_worker",))
    side = Side(name, server, env, argv, extra={"scheduler": processes.scheduler()})
    side.actors = declare(build_broker(load_settings({"HOOKSTREAM_REDIS_URL": server.url})),
                          periodic=False)
    return side


def wait_ready(side: Side, *, timeout_s: float = 60.0) -> None:
    """Until every worker process has fetched (its id is in the heartbeat set) and a job ran."""
    deadline = time.monotonic() + timeout_s
    while side.client.zcard("hookstream:__heartbeats__") < PROCESSES:
        assert time.monotonic() < deadline, f"{side.name}: workers did not start"
        time.sleep(0.1)
    side.client.delete("bench:pickups")
    for _ in range(PROCESSES * 4):
        side.actors["pickup"].send(time.time_ns())
    while side.client.llen("bench:pickups") < PROCESSES * 4:
        assert time.monotonic() < deadline, f"{side.name}: warm-up jobs did not run"
        time.sleep(0.05)
    side.client.delete("bench:pickups")


def pickups_ms(side: Side, expected: int, *, timeout_s: float = 60.0) -> list[float]:
    deadline = time.monotonic() + timeout_s
    while side.client.llen("bench:pickups") < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    values = []
    for raw in side.client.lrange("bench:pickups", 0, -1):
        sent, started = (int(part) for part in raw.split(b":"))
        values.append((started - sent) / 1e6)
    side.client.delete("bench:pickups")
    return values


def idle_pickup(side: Side) -> list[float]:
    rng = random.Random(7)
    for _ in range(IDLE_MESSAGES):
        time.sleep(rng.uniform(*IDLE_GAP_S))
        side.actors["pickup"].send(time.time_ns())
    return pickups_ms(side, IDLE_MESSAGES)


def paced_pickup(side: Side) -> list[float]:
    total = RATE_PER_S * RATE_SECONDS
    start = time.monotonic()
    for index in range(total):
        delay = start + index / RATE_PER_S - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        side.actors["pickup"].send(time.time_ns())
    return pickups_ms(side, total)


def monitor_counts(url: str, seconds: float) -> tuple[int, int, float]:
    """(client round trips, all commands incl. inside scripts, seconds watched) via MONITOR."""
    trips = commands = 0
    client = connect(url, socket_timeout_s=seconds, health_check_interval_s=0)
    started = time.monotonic()
    with client.monitor() as monitor:
        while time.monotonic() - started < seconds:
            try:
                entry = monitor.next_command()
            except redis.TimeoutError:
                break  # silence for a whole window: nothing more to count
            commands += 1
            trips += entry.get("client_type") != "lua"
    elapsed = time.monotonic() - started
    client.close()
    return trips, commands, elapsed


def idle_calls(side: Side, *, processes: int = PROCESSES) -> tuple[float, float]:
    """(round trips, commands incl. inside scripts) per process per second while idle."""
    time.sleep(3.0)
    trips, commands, elapsed = monitor_counts(side.server.url, IDLE_WINDOW_S)
    return trips / elapsed / processes, commands / elapsed / processes


def throughput(side: Side) -> float:
    side.stop()
    side.client.delete("hookstream:deliveries.wake")
    for _ in range(THROUGHPUT_MESSAGES):
        side.actors["noop"].send()
    key = "hookstream:deliveries.msgs"
    supervisor = Supervisor(side.env, cwd=str(ROOT), restart=False,
                            log_dir=side.env["BENCH_LOG_DIR"])
    supervisor.start("fleet", side.fleet_argv)
    try:
        began = wait_for_len(side.client, key, int(THROUGHPUT_MESSAGES * 0.9))
        ended = wait_for_len(side.client, key, 0)
        return THROUGHPUT_MESSAGES * 0.9 / (ended - began)
    finally:
        supervisor.stop(timeout_s=20)


def wait_for_len(client: redis.Redis, key: str, at_most: int, *, timeout_s: float = 90) -> float:
    deadline = time.monotonic() + timeout_s
    while client.hlen(key) > at_most:
        assert time.monotonic() < deadline, f"{key} did not drain"
        time.sleep(0.005)
    return time.monotonic()


def recovery_s(side: Side, bound_s: float) -> float | None:
    token = uuid.uuid4().hex
    side.actors["hold"].send(token)
    runs_key = f"bench:runs:{token}"
    while side.client.llen(runs_key) < 1:
        time.sleep(0.01)
    pid = int(side.client.lindex(runs_key, 0).split(b":")[0])
    killed_ns = time.time_ns()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + bound_s
    while side.client.llen(runs_key) < 2:
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)
    rerun_ns = int(side.client.lindex(runs_key, 1).split(b":")[1])
    return (rerun_ns - killed_ns) / 1e9


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def describe(values: list[float]) -> str:
    return (f"p50 {percentile(values, 0.5):7.2f} ms  p99 {percentile(values, 0.99):7.2f} ms  "
            f"max {max(values):7.2f} ms  (n={len(values)})")


def measure(side: Side, results: dict[str, dict[str, str]], say: Callable[[str], None]) -> None:
    row = results.setdefault(side.name, {})
    side.start(with_extra=False)
    trips, commands = idle_calls(side)
    row["idle_calls"] = f"{trips:5.2f} round trips/s  ({commands:5.1f} commands/s incl. in scripts)"
    say(f"{side.name}: idle calls {row['idle_calls']}")
    row["idle_pickup"] = describe(idle_pickup(side))
    say(f"{side.name}: idle pickup {row['idle_pickup']}")


def rate_rounds(sides: list[Side], results: dict[str, dict[str, str]],
                say: Callable[[str], None]) -> None:
    """Paced pickup, rounds alternating between the sides (both fleets up, one loaded)."""
    rounds: dict[str, list[tuple[float, float]]] = {side.name: [] for side in sides}
    for _ in range(RATE_ROUNDS):
        for side in sides:
            values = paced_pickup(side)
            rounds[side.name].append((percentile(values, 0.5), percentile(values, 0.99)))
            say(f"{side.name}: pickup at {RATE_PER_S}/s {describe(values)}")
    for name, pairs in rounds.items():
        results[name]["rate_pickup"] = (
            f"p50 {statistics.median(p50 for p50, _ in pairs):7.2f} ms  "
            f"p99 {statistics.median(p99 for _, p99 in pairs):7.2f} ms  (median of rounds; "
            f"p99s: {', '.join(f'{p99:.0f}' for _, p99 in pairs)} ms)")


def scheduler_calls(side: Side) -> float:
    supervisor = Supervisor(side.env, cwd=str(ROOT), restart=False,
                            log_dir=side.env["BENCH_LOG_DIR"])
    supervisor.start("scheduler-alone", side.extra["scheduler"])
    try:
        trips, _ = idle_calls(side, processes=1)
        return trips
    finally:
        supervisor.stop(timeout_s=10)


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    sides = [make_side("stock", tmp), make_side("hookstream", tmp)]
    results: dict[str, dict[str, str]] = {}

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        for side in sides:
            measure(side, results, say)
        rate_rounds(sides, results, say)
        rates: dict[str, list[float]] = {side.name: [] for side in sides}
        for _ in range(THROUGHPUT_ROUNDS):
            for side in sides:
                rates[side.name].append(throughput(side))
                say(f"{side.name}: no-op throughput {rates[side.name][-1]:.0f} messages/s")
        for name, values in rates.items():
            results[name]["throughput"] = (
                f"{statistics.median(values):6.0f} messages/s median  "
                f"(rounds: {', '.join(f'{value:.0f}' for value in values)})")
        results["hookstream"]["scheduler_calls"] = f"{scheduler_calls(sides[1]):5.2f} round trips/s"
        for side, bound in zip(sides, (STOCK_RECOVERY_BOUND_S, OURS_RECOVERY_BOUND_S),
                               strict=True):
            side.start(restart=True)
            seconds = recovery_s(side, bound)
            results[side.name]["recovery"] = (f"{seconds:6.1f} s" if seconds is not None
                                              else f"not within {bound:.0f} s")
            say(f"{side.name}: recovery {results[side.name]['recovery']}")
            side.stop()
    finally:
        for side in sides:
            side.stop()
            side.server.stop()
    report(results)
    return 0


def report(results: dict[str, dict[str, str]]) -> None:
    labels = [("idle_pickup", "idle pickup (enqueue -> actor start)"),
              ("rate_pickup", f"pickup at {RATE_PER_S:,} messages/s"),
              ("throughput", f"no-op throughput, -p {PROCESSES} -t {THREADS}"),
              ("idle_calls", "idle Redis calls per worker process"),
              ("recovery", "SIGKILL mid-job -> job runs again")]
    print(f"bench.workers  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  "
          f"{os.cpu_count()} CPUs  Python {sys.version.split()[0]}  (loopback, embedded Valkey)")
    for key, label in labels:
        print(f"\n{label}")
        for side in ("stock", "hookstream"):
            print(f"  {side:<11} {results.get(side, {}).get(key, 'n/a')}")
    print(f"\nscheduler process (janitor every 1 s + lease), whole cluster: "
          f"{results.get('hookstream', {}).get('scheduler_calls', 'n/a')}")


if __name__ == "__main__":
    sys.exit(main())

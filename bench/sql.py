"""SQL change streaming benchmark (PostgreSQL), beside the seed's one-poll-per-viewer design.

    flock /tmp/hookstream-bench.lock .venv/bin/python -m bench.sql [--quick] [--only latency,...]

Starts an embedded Valkey, a fresh PostgreSQL database (dropped at the end),
the streamer and the readers (in a scheduler process), then reports:

- push latency, commit to SSE client: each UPDATE stamps ``t`` (time_ns just
  before COMMIT) into the row; `bench.sse_load` clients receive ``row.changed``
  with ``fields.t`` and take receive - t. p50/p99 with 1 and 1,000 subscribers;
- sustained row changes per second through one watch: 20,000 row changes from
  4 writer threads in transactions of 20 rows, rate = changes / (first commit ->
  last event in the log);
- readers down for 60 s (10 s with --quick) while rows change at 100/s, then
  restarted: lost and duplicated events, restart -> caught up (including the
  process start), and first -> last event of the catch-up;
- poll-and-diff time (`Differ.run`, in process) of 10,000 and 100,000 rows with
  10 changed, full and watermark mode, median of 3;
- database transactions per minute while idle with 1 and 1,000 subscribers
  (ours, push mode; ``pg_stat_database`` xact_commit + xact_rollback), beside
  the seed's design: one query per viewer every 3 s, 1 and 1,000 viewers
  (offered and actually served queries per minute).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

from bench.fdlimit import raise_fd_limit
from common.publishing import EventLog
from common.settings import EventLogSettings, WatchSettings
from domains.sqlwatch import keys as sql_keys
from domains.sqlwatch import triggers
from domains.sqlwatch.differ import Differ
from domains.sqlwatch.watch import Watch
from hookstream import processes
from hookstream.embedded import EmbeddedRedis, free_port
from hookstream.supervisor import wait_http_ok

ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LATENCY_UPDATES = 300
LATENCY_RATE_PER_S = 50
CHANGES = 20_000
WRITERS = 4
IDLE_S = 20.0
SEED_POLL_S = 3.0
STATS_FLUSH_S = 11.0
STAMP = r'"fields":\{[^}]*"t":(\d+)'  # the new t only, not the previous one


def create_database() -> tuple[str, str]:
    name = f"hs_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return name, sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
    admin.dispose()


def make_table(engine: sa.Engine, table: str, rows: int) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        connection.exec_driver_sql(
            f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL, "
            "name TEXT, seats INTEGER, t BIGINT, updated_at BIGINT NOT NULL DEFAULT 0)")
        connection.exec_driver_sql(f"CREATE INDEX ON {table} (updated_at)")
        connection.exec_driver_sql(
            f"INSERT INTO {table} (id, company_id, name, seats, updated_at) SELECT i, mod(i, 50), "
            f"'trip ' || i, 40, i FROM generate_series(1, {rows}) AS i")


def config_text(url: str) -> str:
    return f"""
log_level = "warning"
log_format = "json"
[streamer]
public_topics = ["bench/#"]
max_connections = 100000
[watches.trips]
url = "{url}"
table = "trips"
key = ["id"]
topic = "bench/{{company_id}}"
"""


class Stack:
    """Embedded Valkey + streamer + readers process for the push measurements."""

    def __init__(self, workdir: Path, url: str) -> None:
        self.store = EmbeddedRedis(workdir / "valkey", durable=False).start()
        self.port = free_port()
        config = workdir / "hookstream.toml"
        config.write_text(config_text(url))
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKSTREAM_")}
        env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=self.store.url)
        self.env, self.workdir = env, workdir
        self.children = [self.start("streamer",
                                    [*processes.streamer(self.port), "--backlog", "4096"])]
        self.readers = self.start("readers", processes.scheduler())
        wait_http_ok(f"http://127.0.0.1:{self.port}/readyz")
        self.client = redis.Redis.from_url(self.store.url)

    def start(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                                stderr=open(self.workdir / f"{name}.log", "ab"))

    def stop_readers(self) -> None:
        self.readers.terminate()
        self.readers.wait(timeout=15)

    def start_readers(self) -> None:
        self.readers = self.start("readers", processes.scheduler())

    def wait_seeded(self) -> None:
        deadline = time.monotonic() + 60
        while not self.client.hexists("hookstream:{sql.trips}:meta", "seeded"):
            assert time.monotonic() < deadline, "reader did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.children.append(self.readers)
        for child in self.children:
            child.terminate()
        for child in self.children:
            child.wait(timeout=15)
        self.store.stop()


class Subscribers:
    def __init__(self, port: int, count: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.sse_load", "127.0.0.1", str(port), "bench/1", str(count),
             STAMP],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.read()

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        return json.loads(self.process.stdout.readline())

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.read() if command != "quit" else {}

    def stop(self) -> None:
        self.ask("quit")
        self.process.wait(timeout=10)


def push_latency(engine: sa.Engine, port: int, subscribers: int) -> dict[str, Any]:
    load = Subscribers(port, subscribers)
    try:
        time.sleep(1.0)
        load.ask("reset")
        gap_s = 1 / LATENCY_RATE_PER_S
        for n in range(LATENCY_UPDATES):
            with engine.begin() as connection:
                connection.execute(sa.text("UPDATE trips SET seats = :n, t = :t WHERE id = 1"),
                                   {"n": n, "t": time.time_ns()})
            time.sleep(gap_s)
        time.sleep(1.0)
        return load.ask("report")
    finally:
        load.stop()


def write_changes(engine: sa.Engine, changes: int, *, first_id: int, rows_per_tx: int,
                  writers: int = WRITERS, pace_per_s: float | None = None) -> float:
    """UPDATE *changes* rows (each one row change) from *writers* threads; returns seconds."""
    per_writer = changes // writers

    def write(offset: int) -> None:
        start_id = first_id + offset * per_writer
        with engine.connect() as connection:
            connection.exec_driver_sql("SET synchronous_commit = off")
            for done in range(0, per_writer, rows_per_tx):
                connection.execute(sa.text("UPDATE trips SET seats = seats + 1 "
                                           "WHERE id >= :a AND id < :b"),
                                   {"a": start_id + done, "b": start_id + done + rows_per_tx})
                connection.commit()
                if pace_per_s:
                    time.sleep(rows_per_tx * writers / pace_per_s)

    started = time.monotonic()
    threads = [threading.Thread(target=write, args=(k,)) for k in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def wait_for_events(client: redis.Redis, count: int, *, timeout_s: float = 600) -> float:
    started = time.monotonic()
    while int(client.xlen(EventLogSettings().stream_key)) < count:
        assert time.monotonic() - started < timeout_s, "events missing"
        time.sleep(0.005)
    return time.monotonic() - started


def sustained(engine: sa.Engine, client: redis.Redis) -> dict[str, Any]:
    """Row changes/s through one watch: writers in transactions of 20 rows."""
    before = int(client.xlen(EventLogSettings().stream_key))
    started = time.monotonic()
    written_s = write_changes(engine, CHANGES, first_id=1000, rows_per_tx=20)
    behind_s = wait_for_events(client, before + CHANGES)
    elapsed_s = time.monotonic() - started
    return {"changes": CHANGES, "writes_per_s": round(CHANGES / written_s),
            "streamed_per_s": round(CHANGES / elapsed_s), "behind_writers_s": round(behind_s, 3)}


def wait_back_and_caught_up(client: redis.Redis, count: int, *, timeout_s: float = 600
                            ) -> tuple[float, float]:
    """Seconds until the reader holds its lease again (it is back), and until *count* events."""
    lease = sql_keys.lease_key("hookstream", "trips")
    started = time.monotonic()
    back_s: float | None = None
    while back_s is None or int(client.xlen(EventLogSettings().stream_key)) < count:
        assert time.monotonic() - started < timeout_s, "events missing"
        if back_s is None and client.exists(lease):
            back_s = time.monotonic() - started
        time.sleep(0.002)
    return back_s, time.monotonic() - started


def offline(engine: sa.Engine, stack: Stack, seconds: float) -> dict[str, Any]:
    """Readers down for *seconds* while rows change at 100/s; then catch-up, lost, duplicated.

    "Back" is when the restarted scheduler's reader holds the watch's lease again
    (the process has started, imported, connected); the target counts from there."""
    stream = EventLogSettings().stream_key
    before = int(stack.client.xlen(stream))
    stack.stop_readers()
    assert not stack.client.exists(sql_keys.lease_key("hookstream", "trips")), "lease kept"
    changes = int(100 * seconds) // WRITERS * WRITERS
    write_changes(engine, changes, first_id=30_000, rows_per_tx=5, pace_per_s=100)
    stack.start_readers()
    back_s, caught_up_s = wait_back_and_caught_up(stack.client, before + changes)
    time.sleep(2.0)
    entries = stack.client.xrange(stream, min="-", max="+")[before:]
    ids = [json.loads(fields[b"e"])["id"] for _, fields in entries]
    first_ms, last_ms = (int(entries[i][0].split(b"-")[0]) for i in (0, -1))
    return {"offline_s": seconds, "changes": changes, "events": len(ids),
            "duplicated": len(ids) - len(set(ids)), "lost": changes - len(set(ids)),
            "restart_to_caught_up_s": round(caught_up_s, 2),
            "restart_to_reader_back_s": round(back_s, 3),
            "reader_back_to_caught_up_s": round(caught_up_s - back_s, 3),
            "first_to_last_event_s": round((last_ms - first_ms) / 1000, 3)}


def diff_times(url: str, client: redis.Redis, rows: int) -> dict[str, float]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    table = f"poll_{rows}"
    make_table(engine, table, rows)
    results = {}
    stamp = rows
    for mode in ("poll", "watermark"):
        config = WatchSettings.model_validate({
            "url": url, "table": table, "key": ["id"], "topic": "bench/{company_id}",
            "mode": mode, "watermark": "updated_at" if mode == "watermark" else None})
        watch = Watch(f"{table}_{mode}", config)
        differ = Differ(watch, engine=engine,
                        state=watch.state(client, "hookstream", EventLogSettings()),
                        publisher=EventLog(client, EventLogSettings()), client=client,
                        namespace="hookstream")
        differ.run()
        times = []
        for round_ in range(1, 4):
            stamp += 1
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    f"UPDATE {table} SET seats = seats + 1, updated_at = {stamp} "
                    f"WHERE mod(id, {rows // 10}) = {round_}")
            result = differ.run()
            assert result.events == 10, result
            times.append(result.elapsed_s * 1000)
        results[mode] = round(statistics.median(times), 1)
    engine.dispose()
    return results


def transactions(engine: sa.Engine, seconds: float) -> float:
    """Transactions per minute on the database over *seconds* while nothing writes.

    PostgreSQL backends flush their counters up to 10 s after going idle, so the
    window starts and ends with a quiet 11 s; our own first read is subtracted.
    """
    read = sa.text("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                   "WHERE datname = current_database()")
    counts = []
    for wait_s in (STATS_FLUSH_S, seconds + STATS_FLUSH_S):
        time.sleep(wait_s)
        with engine.connect() as connection:
            counts.append(int(connection.execute(read).scalar() or 0))
    return round((counts[1] - counts[0] - 1) * 60 / seconds, 1)


def seed_design(engine: sa.Engine, viewers: int, seconds: float) -> dict[str, float]:
    """The seed: every viewer runs its company's query every 3 s (one pooled connection)."""
    issued = 0
    deadline = time.monotonic() + seconds
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            tick = time.monotonic()
            for viewer in range(viewers):
                connection.execute(sa.text("SELECT * FROM trips WHERE company_id = :c"),
                                   {"c": viewer % 50}).fetchall()
                connection.commit()
                issued += 1
            time.sleep(max(0.0, SEED_POLL_S - (time.monotonic() - tick)))
    return {"offered_per_min": viewers * 60 / SEED_POLL_S,
            "served_per_min": round(issued * 60 / seconds)}


def emit(report: dict[str, Any], *names: str) -> None:
    print(json.dumps({name: report[name] for name in names}), flush=True)


def measurements(engine: sa.Engine, stack: Stack, url: str, *, quick: bool
                 ) -> list[tuple[str, Any]]:
    """(name, thunk) in running order; ``--only PREFIX,...`` picks some."""

    def idle(subscribers: int) -> float:
        load = Subscribers(stack.port, subscribers) if subscribers > 1 else None
        try:
            return transactions(engine, IDLE_S)
        finally:
            if load is not None:
                load.stop()

    return [
        *[(f"latency_{n}", lambda n=n: push_latency(engine, stack.port, n)) for n in (1, 1000)],
        *[(f"ours_tx_per_min_idle_{n}_subscribers", lambda n=n: idle(n)) for n in (1000, 1)],
        ("sustained", lambda: sustained(engine, stack.client)),
        ("offline", lambda: offline(engine, stack, 10.0 if quick else 60.0)),
        *[(f"seed_queries_{n}_viewers", lambda n=n: seed_design(engine, n, IDLE_S))
          for n in (1, 1000)],
        *[(f"diff_ms_{n}", lambda n=n: diff_times(url, stack.client, n))
          for n in (10_000, 100_000)],
    ]


def main() -> None:
    quick = "--quick" in sys.argv
    only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else []
    raise_fd_limit()
    name, url = create_database()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            make_table(engine, "trips", 50_000)
            with engine.begin() as connection:
                connection.exec_driver_sql("CREATE INDEX ON trips (company_id)")
            config = WatchSettings.model_validate({"url": url, "table": "trips", "key": ["id"],
                                                   "topic": "bench/{company_id}"})
            triggers.execute(engine, triggers.install_sql(engine, "trips", config))
            stack = Stack(Path(tmp), url)
            try:
                stack.wait_seeded()
                for label, measure in measurements(engine, stack, url, quick=quick):
                    if only and not any(label.startswith(prefix) for prefix in only):
                        continue
                    report[label] = measure()
                    emit(report, label)
            finally:
                stack.stop()
        finally:
            engine.dispose()
            drop_database(name)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

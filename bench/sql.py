"""SQL change streaming benchmark (PostgreSQL), beside the seed's one-poll-per-viewer design.

    flock /tmp/hookstream-bench.lock .venv/bin/python -m bench.sql [--quick]

Starts an embedded Valkey, a fresh PostgreSQL database (dropped at the end),
the streamer and the readers' process (``python -m workers.sql``), then reports:

- push latency, commit to SSE client: each UPDATE stamps ``t`` (time_ns just
  before COMMIT) into the row; `bench.sse_load` clients receive ``row.changed``
  with ``fields.t`` and take receive - t. p50/p99 with 1 and 1,000 subscribers;
- sustained row changes per second through one watch: 20,000 single-row UPDATEs
  from 4 writer threads (one commit each), rate = changes / (first commit ->
  last event in the log);
- poll-and-diff time (`Differ.run`, in process) of 10,000 and 100,000 rows with
  10 changed, full and watermark mode, median of 3;
- database transactions per minute while idle (ours, push mode) and while the
  seed's design runs one 3 s poll per viewer, with 1 and 1,000 viewers
  (``pg_stat_database`` xact_commit + xact_rollback of the bench database).
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
            f"INSERT INTO {table} (id, company_id, name, seats, updated_at) SELECT i, i % 50, "
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
        streamer = [*processes.streamer(self.port), "--backlog", "4096"]
        readers = [sys.executable, "-m", "workers.sql"]
        self.children = [
            subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                             stderr=open(workdir / f"{name}.log", "ab"))  # noqa: SIM115
            for name, argv in (("streamer", streamer), ("readers", readers))]
        wait_http_ok(f"http://127.0.0.1:{self.port}/readyz")
        self.client = redis.Redis.from_url(self.store.url)

    def wait_seeded(self) -> None:
        deadline = time.monotonic() + 60
        while not self.client.hexists("hookstream:{sql.trips}:meta", "seeded"):
            assert time.monotonic() < deadline, "reader did not start"
            time.sleep(0.05)

    def stop(self) -> None:
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


def sustained(engine: sa.Engine, client: redis.Redis) -> dict[str, Any]:
    stream = EventLogSettings().stream_key
    before = int(client.xlen(stream))
    per_writer = CHANGES // WRITERS

    def write(offset: int) -> None:
        with engine.connect() as connection:
            for n in range(per_writer):
                connection.execute(sa.text("UPDATE trips SET seats = seats + 1 WHERE id = :i"),
                                   {"i": 1000 + offset * per_writer + n})
                connection.commit()

    started = time.monotonic()
    threads = [threading.Thread(target=write, args=(k,)) for k in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written_s = time.monotonic() - started
    while int(client.xlen(stream)) < before + CHANGES:
        time.sleep(0.01)
        assert time.monotonic() - started < 300, "events missing"
    elapsed_s = time.monotonic() - started
    return {"changes": CHANGES, "writers_s": round(written_s, 2),
            "writes_per_s": round(CHANGES / written_s),
            "streamed_per_s": round(CHANGES / elapsed_s),
            "behind_writers_s": round(elapsed_s - written_s, 3)}


def diff_times(url: str, client: redis.Redis, rows: int) -> dict[str, float]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    table = f"poll_{rows}"
    make_table(engine, table, rows)
    results = {}
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
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    f"UPDATE {table} SET seats = seats + 1, updated_at = {rows + round_} "
                    f"WHERE id % {rows // 10} = {round_}")
            result = differ.run()
            assert result.events == 10, result
            times.append(result.elapsed_s * 1000)
        results[mode] = round(statistics.median(times), 1)
    engine.dispose()
    return results


def transactions(engine: sa.Engine, seconds: float, poll: Any = None) -> float:
    """Transactions per minute on the database over *seconds* (minus our own two reads)."""
    read = sa.text("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                   "WHERE datname = current_database()")
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        first = int(connection.execute(read).scalar() or 0)
        connection.rollback()
    if poll is None:
        time.sleep(seconds)
    else:
        poll(seconds)
    time.sleep(1.5)  # backends flush their counters at most every second
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        last = int(connection.execute(read).scalar() or 0)
    return round((last - first - 3) * 60 / seconds, 1)


def seed_design(engine: sa.Engine, viewers: int) -> Any:
    """The seed: every viewer runs its company's query every 3 s (one pooled connection)."""

    def poll(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        with engine.connect() as connection:
            while time.monotonic() < deadline:
                tick = time.monotonic()
                for viewer in range(viewers):
                    connection.execute(sa.text("SELECT * FROM trips WHERE company_id = :c"),
                                       {"c": viewer % 50}).fetchall()
                    connection.commit()
                time.sleep(max(0.0, SEED_POLL_S - (time.monotonic() - tick)))

    return poll


def main() -> None:
    quick = "--quick" in sys.argv
    raise_fd_limit()
    name, url = create_database()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            make_table(engine, "trips", 50_000)
            config = WatchSettings.model_validate({"url": url, "table": "trips", "key": ["id"],
                                                   "topic": "bench/{company_id}"})
            triggers.execute(engine, triggers.install_sql(engine, "trips", config))
            stack = Stack(Path(tmp), url)
            try:
                stack.wait_seeded()
                for count in (1, 1000):
                    report[f"latency_{count}"] = push_latency(engine, stack.port, count)
                    print(json.dumps({f"latency_{count}": report[f"latency_{count}"]}), flush=True)
                idle = Subscribers(stack.port, 1000)
                report["ours_tx_per_min_1000_subscribers"] = transactions(engine, IDLE_S)
                idle.stop()
                report["ours_tx_per_min_1_subscriber"] = transactions(engine, IDLE_S)
                print(json.dumps({k: v for k, v in report.items() if "tx" in k}), flush=True)
                report["sustained"] = sustained(engine, stack.client)
                print(json.dumps({"sustained": report["sustained"]}), flush=True)
                for viewers in (1, 1000):
                    report[f"seed_tx_per_min_{viewers}"] = transactions(
                        engine, IDLE_S / 2 if quick else IDLE_S, seed_design(engine, viewers))
                print(json.dumps({k: v for k, v in report.items() if "seed" in k}), flush=True)
                for rows in (10_000, 100_000):
                    report[f"diff_ms_{rows}"] = diff_times(url, stack.client, rows)
                    print(json.dumps({f"diff_ms_{rows}": report[f"diff_ms_{rows}"]}), flush=True)
            finally:
                stack.stop()
        finally:
            engine.dispose()
            drop_database(name)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

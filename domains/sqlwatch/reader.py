"""The one reader of a watch: whatever the number of subscribers, one loop per watch.

Each `WatchReader` holds its watch's Redis lease (`lease.Lease`), so running
readers in several processes (two schedulers) still gives one per watch; a
standby takes over within one lease ttl. What it does per mode:

- push, table watch: drain the change log (`changelog`) into events and state
  (`applier.batch_from_changes`), delete what was published, then wait: on
  PostgreSQL on ``LISTEN`` (no query at all while idle: it drains only after
  (re)connecting and after a notification; the lease is renewed in Redis), on
  SQLite and MariaDB by polling the change log every ``changelog_poll_s``. A
  lost connection is logged, and the next pass reconnects, LISTENs again and
  drains whatever the change log holds: nothing missed.
- push, query watch: a change to any of ``tables`` wakes it; it waits
  ``debounce_s`` for the burst to finish, asks a worker to diff the query once
  (`differ.Differ` via the ``diff_sql_watch`` actor), then deletes the wake-up rows.
- poll and watermark: asks a worker for a diff every ``interval_s``.

Before deleting change-log rows the reader passes the replica barrier
(`common.replicas`): until the primary's replicas have the events, the change
log is their only copy that survives a failover.

A diff is asked for at most once at a time: a ``pending`` key (SET NX, expiring)
stands for a queued job and the job clears it when it starts.

`SqlReaders` runs one thread per configured watch; ``run(stop)`` returns when
*stop* is set, after releasing the leases.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from typing import Any

import psycopg
import redis
import sqlalchemy as sa
import structlog
from psycopg import sql

from common.errors import HookstreamError
from common.publishing import BatchPublisher
from common.replicas import NoBarrier, ReplicaBarrier
from common.settings import EventLogSettings, WatchSettings
from domains.sqlwatch import keys
from domains.sqlwatch.applier import batch_from_changes, changed_keys, publish_and_commit
from domains.sqlwatch.changelog import delete_changes, read_changes
from domains.sqlwatch.diff import serialise_rows
from domains.sqlwatch.engines import libpq_url
from domains.sqlwatch.jobs import DIFF_ACTOR, JobSender
from domains.sqlwatch.lease import Lease
from domains.sqlwatch.rows import read_all
from domains.sqlwatch.state import WatchState
from domains.sqlwatch.triggers import channel
from domains.sqlwatch.watch import Watch

log = structlog.get_logger(__name__)
TRANSIENT = (sa.exc.DBAPIError, psycopg.Error, redis.RedisError, HookstreamError, OSError)
LEASE_TTL_S = 10.0
MAX_BACKOFF_S = 5.0
WAKE_S = 1.0


class WatchReader:
    def __init__(self, watch: Watch, *, engine: sa.Engine, state: WatchState,
                 publisher: BatchPublisher, jobs: JobSender, client: redis.Redis,
                 namespace: str, queue: str, batch_rows: int = 1_000,
                 lease_ttl_s: float = LEASE_TTL_S, replicas: ReplicaBarrier | None = None) -> None:
        self.watch = watch
        self._replicas = replicas or NoBarrier()
        self._engine = engine
        self._state = state
        self._publisher = publisher
        self._jobs = jobs
        self._client = client
        self._queue = queue
        self._batch_rows = batch_rows
        self._lease = Lease(client, keys.lease_key(namespace, watch.name), ttl_s=lease_ttl_s)
        self._pending = keys.pending_key(namespace, watch.name)
        self._listener: psycopg.Connection[Any] | None = None
        self._next_poll = 0.0
        self._woken = False
        self._seeded = False
        self.published = 0

    @property
    def _push(self) -> bool:
        return self.watch.config.mode == "push"

    @property
    def _listens(self) -> bool:
        return self._push and self.watch.dialect == "postgresql"

    def run(self, stop: threading.Event) -> None:
        failures = 0
        try:
            while not stop.is_set():
                try:
                    self.wait(self.step(), stop)
                    failures = 0
                except TRANSIENT as exc:
                    failures += 1
                    pause_s = min(MAX_BACKOFF_S, 0.05 * 2 ** failures)
                    log.warning("sql.reader_error", watch=self.watch.name, error=str(exc),
                                retry_in_s=pause_s)
                    self._close_listener()
                    stop.wait(pause_s)
        finally:
            self.close()

    def step(self) -> float:
        """One pass: hold the lease, read what is due; returns the longest wait before the next."""
        if not self._lease.hold():
            self._close_listener()
            return self._lease.ttl_s / 3
        renew_s = self._lease.ttl_s / 3
        if not self._push:
            return min(renew_s, self._ask_when_due())
        if self._listens and self._listener is None:
            self._listen()
            self._woken = True
        if not self._seeded:
            self._seeded = self._seed_once()
        if self._woken or not self._listens:
            self._woken = False
            self.drain_query() if self.watch.is_query else self.drain()
        return renew_s if self._listens else self.watch.config.changelog_poll_s

    def wait(self, wait_s: float, stop: threading.Event) -> None:
        """Sleep up to *wait_s*; on PostgreSQL return at the first NOTIFY."""
        deadline = time.monotonic() + wait_s
        while not stop.is_set() and (remaining := deadline - time.monotonic()) > 0:
            if self._listener is None:
                stop.wait(min(remaining, WAKE_S))
                continue
            self._woken = any(True for _ in self._listener.notifies(
                timeout=min(remaining, WAKE_S), stop_after=1))
            if self._woken:
                return

    def _seed_once(self) -> bool:
        """Seed a new table watch (a query watch seeds through its first diff)."""
        if "seeded" in self._state.meta():
            return True
        if self.watch.is_query:
            self.ask_for_diff()
            return False
        self.seed()
        return True

    def seed(self) -> None:
        """Store the table's rows silently before the first drain (see `state`)."""
        position = self._state.log_position()
        rows = serialise_rows(self.watch.shape, read_all(self._engine, self.watch.config))
        self._state.replace_all(rows, position=position)
        log.info("sql.seeded", watch=self.watch.name, rows=len(rows))

    def drain(self) -> int:
        """Publish every committed change in the log, then delete it; returns events published."""
        total = 0
        while True:
            with self._engine.connect() as connection:
                changes = read_changes(connection, self.watch.name, limit=self._batch_rows)
                connection.rollback()
            if not changes:
                return total
            stored = self._state.load(changed_keys(self.watch.shape, changes))
            batch = batch_from_changes(self.watch.shape, changes, stored)
            fresh = publish_and_commit(batch, self._publisher, self._state, extra={
                "last_change_ms": int(time.time() * 1000), "lag_ms": _lag_ms(changes)})
            self._replicas.confirm()  # the change log is the only copy until the replicas have it
            with self._engine.begin() as connection:
                delete_changes(connection, [change.id for change in changes])
            total += fresh
            self.published += fresh
            if len(changes) < self._batch_rows:
                return total

    def drain_query(self) -> bool:
        """Wake-up rows of a query watch: debounce, ask for one diff, delete them."""
        with self._engine.connect() as connection:
            first = read_changes(connection, self.watch.name, limit=1)
            connection.rollback()
        if not first:
            return False
        time.sleep(self.watch.config.debounce_s)
        with self._engine.begin() as connection:
            ids = [change.id for change in read_changes(connection, self.watch.name,
                                                        limit=1_000_000)]
        self.ask_for_diff()
        self._replicas.confirm()
        with self._engine.begin() as connection:
            delete_changes(connection, ids)
        return True

    def ask_for_diff(self) -> bool:
        """Queue a diff unless one is queued and not yet started."""
        if not self._client.set(self._pending, 1, nx=True, ex=60):
            return False
        self._jobs.send(self._queue, DIFF_ACTOR, [self.watch.name])
        return True

    def close(self) -> None:
        self._close_listener()
        with contextlib.suppress(redis.RedisError):
            self._lease.release()

    def _ask_when_due(self) -> float:
        now = time.monotonic()
        if now >= self._next_poll:
            self.ask_for_diff()
            self._next_poll = now + self.watch.config.interval_s
        return max(0.0, self._next_poll - now)

    def _listen(self) -> None:
        listener = psycopg.connect(libpq_url(self.watch.url), autocommit=True)
        listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel(self.watch.name))))
        self._listener = listener

    def _close_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(psycopg.Error):
                self._listener.close()
            self._listener = None


class SqlReaders:
    """One `WatchReader` thread per configured watch."""

    def __init__(self, watches: Mapping[str, WatchSettings], *, client: redis.Redis,
                 publisher: BatchPublisher, jobs: JobSender, namespace: str, queue: str,
                 events: EventLogSettings, replicas: ReplicaBarrier | None = None) -> None:
        self.readers = []
        for name, config in sorted(watches.items()):
            watch = Watch(name, config)
            self.readers.append(WatchReader(
                watch, engine=watch.engine(pre_ping=False),
                state=watch.state(client, namespace, events), publisher=publisher, jobs=jobs,
                client=client, namespace=namespace, queue=queue, replicas=replicas))

    def run(self, stop: threading.Event) -> None:
        threads = [threading.Thread(target=reader.run, args=(stop,), daemon=True,
                                    name=f"sql-{reader.watch.name}") for reader in self.readers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def _lag_ms(changes: list[Any]) -> int:
    written = [change.created_at for change in changes if change.created_at is not None]
    if not written:
        return 0
    return max(0, int((time.time() - min(written).timestamp()) * 1000))

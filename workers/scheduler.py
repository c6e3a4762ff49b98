"""The scheduler: one process type that fires periodic jobs, once, however many run.

Every scheduler process tries to hold the lease (`workers.leases.Lease`); the
holder renews it every third of its ttl and fires each due job through a
fenced claim, so adding schedulers (or workers) never multiplies jobs, and a
standby takes over within one ttl when the holder dies.

Run with ``hookstream scheduler``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import redis
import structlog

from common.jobs import JobSender
from common.keys import schedule_key, scheduler_lock_key
from common.logs import configure_logging
from common.publishing import EventLog
from common.redis import connect
from common.replicas import barrier
from common.settings import Settings, load_settings
from workers.brokers.redis import Janitor
from workers.leases import LOST, Lease
from workers.periodic import PeriodicJob, actor_jobs, periodic_jobs
from workers.telemetry import report_scheduler

log = structlog.get_logger(__name__)
ERROR_PAUSE_S = 1.0


class Scheduler:
    def __init__(self, lease: Lease, schedule_key: str, jobs: Sequence[PeriodicJob], *,
                 lease_ttl_s: float) -> None:
        self._lease = lease
        self._schedule_key = schedule_key
        self._jobs = list(jobs)
        self._renew_every_s = lease_ttl_s / 3
        self._renewed_at = 0.0
        self._due_at = {job.name: 0.0 for job in self._jobs}
        self.fired: dict[str, int] = {job.name: 0 for job in self._jobs}

    @property
    def leading(self) -> bool:
        return self._lease.held

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                stop.wait(self._step_safely())
        finally:
            self._release()

    def step(self) -> float:
        """One pass: hold the lease, fire what is due; returns how long to sleep."""
        now = time.monotonic()
        if not self._lease.held:
            return self._try_to_lead(now)
        if now - self._renewed_at >= self._renew_every_s:
            if not self._lease.renew():
                log.warning("scheduler.lease_lost")
                return self._renew_every_s
            self._renewed_at = now
        for job in self._jobs:
            if self._due_at[job.name] <= now:
                self._fire_if_due(job, now)
        next_due = min(self._due_at.values(), default=now + self._renew_every_s)
        return max(0.0, min(next_due, self._renewed_at + self._renew_every_s) - time.monotonic())

    def _try_to_lead(self, now: float) -> float:
        if not self._lease.acquire():
            return self._renew_every_s
        log.info("scheduler.leading")
        self._renewed_at = now
        self._due_at = dict.fromkeys(self._due_at, 0.0)
        return 0.0

    def _fire_if_due(self, job: PeriodicJob, now: float) -> None:
        outcome = self._lease.claim(self._schedule_key, job.name, job.interval_s)
        if outcome == LOST:
            log.warning("scheduler.lease_lost", job=job.name)
            return
        if outcome > 0:
            self._due_at[job.name] = now + outcome / 1000
            return
        self._due_at[job.name] = now + job.interval_s
        self.fired[job.name] += 1
        try:
            job.run()
        except Exception:
            log.exception("scheduler.job_failed", job=job.name)

    def _step_safely(self) -> float:
        try:
            return self.step()
        except redis.RedisError as exc:
            log.warning("scheduler.redis_error", error=str(exc))
            return ERROR_PAUSE_S

    def _release(self) -> None:
        with contextlib.suppress(redis.RedisError):
            self._lease.release()


def new_lease(client: redis.Redis, namespace: str, *, ttl_s: float) -> Lease:
    holder = f"{socket.gethostname()}:{os.getpid()}"
    return Lease(client, scheduler_lock_key(namespace), holder=holder, ttl_s=ttl_s)


def create_scheduler(settings: Settings, *, client: redis.Redis, queues: Sequence[str],
                     runs: Mapping[str, Callable[[], object]]) -> Scheduler:
    """Wire a scheduler: the janitor over *queues* plus the periodic jobs in *runs*."""
    workers = settings.workers
    janitor = Janitor(client, workers, queues)
    jobs = periodic_jobs(workers.schedule, {"janitor": janitor.sweep, **runs})
    lease = new_lease(client, workers.namespace, ttl_s=workers.scheduler_lock_ttl_s)
    return Scheduler(lease, schedule_key(workers.namespace), jobs,
                     lease_ttl_s=workers.scheduler_lock_ttl_s)


def main() -> int:
    """Composition root of the scheduler process (``hookstream scheduler``).

    It sends its actor jobs through `JobSender` on its own client: no broker,
    no actors imported, the queues from the settings.
    """
    settings = load_settings()
    configure_logging(settings, process="scheduler")
    client = connect(settings.require_redis_url())
    jobs = JobSender(client, namespace=settings.workers.namespace)
    scheduler = create_scheduler(settings, client=client, queues=settings.workers.queues,
                                 runs=actor_jobs(settings.workers, jobs))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log.info("scheduler.started", jobs=sorted(scheduler.fired))
    reporter = report_scheduler(settings, client, scheduler)
    readers = start_sql_readers(settings, client, jobs, stop)
    scheduler.run(stop)
    reporter.stop()
    if readers is not None:
        readers.join(timeout=settings.workers.scheduler_lock_ttl_s)
    return 0


def start_sql_readers(settings: Settings, client: redis.Redis, jobs: JobSender,
                      stop: threading.Event) -> threading.Thread | None:
    """One reader per SQL watch, in threads of this process until *stop* (none without watches).

    Each reader holds its own Redis lease, so every scheduler process may run
    them: one reads, the others stand by and take over within the lease's ttl.
    """
    if not settings.watches:
        return None
    from domains.sqlwatch.reader import SqlReaders  # SQLAlchemy only where watches exist

    readers = SqlReaders(settings.watches, client=client,
                         publisher=EventLog(client, settings.events), jobs=jobs,
                         namespace=settings.workers.namespace, queue=settings.workers.queue,
                         events=settings.events,
                         replicas=barrier(client, settings))
    thread = threading.Thread(target=readers.run, args=(stop,), name="sql-readers", daemon=True)
    thread.start()
    log.info("scheduler.sql_readers", watches=sorted(settings.watches))
    return thread

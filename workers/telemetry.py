"""What worker and scheduler processes report to the dashboard (`common.telemetry`).

`WorkerTelemetry` is a dramatiq middleware, added to the broker once: in each
dramatiq worker process (after its worker boots) it counts messages by actor
and outcome and starts a `ThreadReporter` that writes only what changed (an
idle worker writes every `WORKER_KEEPALIVE_S`). The scheduler reports every
queue's depth and dead letters (the same for every process: one reads them).
Actors reach the process's `Telemetry` with `process_telemetry(broker)` to
report their own figures (docs/dashboard.md). The scheduler, which runs the
SQL watches' readers, also reports each watch's lag (`domains.sqlwatch.figures`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import redis
from dramatiq import Middleware, Worker
from dramatiq.broker import Broker, MessageProxy

from common.keys import dead_letters_key, queue_key
from common.redis import connect
from common.settings import Settings
from common.telemetry import Figure, Telemetry, ThreadReporter, figure
from common.telemetry import figures as names
from domains.sqlwatch.figures import SqlWatchFigures

if TYPE_CHECKING:
    from workers.scheduler import Scheduler

DELAY_SUFFIX = ".DQ"
# An idle worker writes its report this often (a change is written at the next interval).
WORKER_KEEPALIVE_S = 20.0
# The scheduler reads the queues for everyone, at most this often, so its Redis calls
# stay near the janitor's own (bench/workers.py measures them).
QUEUES_READ_S = 5.0


class QueueFigures:
    def __init__(self, client: redis.Redis, namespace: str, queues: Sequence[str], *,
                 every_s: float = 0.0) -> None:
        self._client = client
        self._namespace = namespace
        self._queues = sorted(queues)
        self._every_s = every_s
        self._last: tuple[list[Figure], float] | None = None

    def figures(self) -> Iterator[Figure]:
        """Every queue's depth and dead letters, read again once *every_s* has passed."""
        now = time.monotonic()
        if self._last is None or now - self._last[1] >= self._every_s:
            self._last = (list(self._read()), now)
        return iter(self._last[0])

    def _read(self) -> Iterator[Figure]:
        pipe = self._client.pipeline(transaction=False)
        for queue in self._queues:
            pipe.llen(queue_key(self._namespace, queue))
            pipe.zcard(dead_letters_key(self._namespace, queue))
        replies = pipe.execute()
        for number, queue in enumerate(self._queues):
            labels = {"queue": queue}
            yield figure(names.QUEUE_MESSAGES, replies[2 * number], labels, merge="last")
            yield figure(names.DEAD_LETTERS, replies[2 * number + 1], labels, merge="last")


class WorkerTelemetry(Middleware):
    def __init__(self, settings: Settings) -> None:
        self.telemetry = Telemetry("worker")
        self._settings = settings
        self._reporter: ThreadReporter | None = None

    def after_worker_boot(self, broker: Broker, worker: Worker) -> None:
        settings = self._settings
        if settings.dashboard.reporting and settings.redis_url:
            self._start(broker, settings.redis_url)

    def _start(self, broker: Broker, redis_url: str) -> None:
        settings = self._settings
        self._reporter = ThreadReporter(self.telemetry, connect(redis_url),
                                        settings.workers.namespace,
                                        interval_s=settings.dashboard.report_interval_s,
                                        keepalive_s=WORKER_KEEPALIVE_S).start()

    def before_worker_shutdown(self, broker: Broker, worker: Worker) -> None:
        if self._reporter is not None:
            self._reporter.stop()

    def after_process_message(self, broker: Broker, message: MessageProxy, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        outcome = "done" if exception is None else "failed"
        self.telemetry.count(names.WORKER_MESSAGES,
                             labels={"actor": message.actor_name, "outcome": outcome})

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        self.telemetry.count(names.WORKER_MESSAGES,
                             labels={"actor": message.actor_name, "outcome": "skipped"})


def process_telemetry(broker: Broker) -> Telemetry:
    """The `Telemetry` of this worker process (for actors that report figures)."""
    for middleware in broker.middleware:
        if isinstance(middleware, WorkerTelemetry):
            return middleware.telemetry
    raise LookupError("the broker has no WorkerTelemetry middleware")


class SchedulerFigures:
    """The scheduler's lease and the jobs it fired."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler

    def figures(self) -> Iterator[Figure]:
        yield figure(names.SCHEDULER_LEADING, int(self._scheduler.leading))
        for job, count in list(self._scheduler.fired.items()):
            if job != "janitor":  # every second, always: a write a second for no news
                yield figure(names.SCHEDULER_JOBS, count, {"job": job})


def report_scheduler(settings: Settings, client: redis.Redis,
                     scheduler: Scheduler) -> ThreadReporter:
    """Start reporting the scheduler's figures and its SQL watches' lag (unless
    ``[dashboard] reporting`` is off)."""
    telemetry = Telemetry("scheduler")
    telemetry.add(SchedulerFigures(scheduler))
    # Queue depths and dead letters are the same for every process: one reads them.
    telemetry.add(QueueFigures(client, settings.workers.namespace, settings.workers.queues,
                               every_s=QUEUES_READ_S))
    if settings.watches:
        telemetry.add(SqlWatchFigures(client, settings.workers.namespace, list(settings.watches)))
    reporter = ThreadReporter(telemetry, client, settings.workers.namespace,
                              interval_s=settings.dashboard.report_interval_s,
                              keepalive_s=WORKER_KEEPALIVE_S)
    return reporter.start() if settings.dashboard.reporting else reporter

"""SQL watches on the workers: the diff actor, and the process running the readers.

``diff_sql_watch(watch)`` runs `domains.sqlwatch.differ.Differ` (poll,
watermark and query watches); it is idempotent (deterministic event ids, one
diff of a watch at a time). ``python -m workers.sql`` runs one reader per
configured watch (`domains.sqlwatch.reader.SqlReaders`); each holds a Redis
lease, so several of these processes still give one reader per watch.
"""

from __future__ import annotations

import signal
import threading
import uuid
from functools import cache
from typing import Any

import dramatiq
import structlog

from common.publishing import EventLog
from common.redis import connect
from domains.sqlwatch.differ import Differ
from domains.sqlwatch.jobs import DIFF_ACTOR
from domains.sqlwatch.reader import SqlReaders
from domains.sqlwatch.watch import find_watch
from workers import broker as broker_module
from workers.errors import classified
from workers.policies import actor_options

log = structlog.get_logger(__name__)
settings = broker_module.settings
broker = broker_module.broker


class DramatiqJobs:
    """The `JobSender` over this process's dramatiq broker."""

    def __init__(self, target: dramatiq.Broker) -> None:
        self._broker = target

    def send(self, queue: str, actor_name: str, args: list[Any],
             kwargs: dict[str, Any] | None = None) -> str:
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=queue, actor_name=actor_name, args=tuple(args), kwargs=kwargs or {},
            options={}, message_id=str(uuid.uuid4()))
        return self._broker.enqueue(message).message_id


@cache
def _differ(name: str) -> Differ:
    watch = find_watch(settings.watches, name)
    client = connect(settings.require_redis_url())
    return Differ(watch, engine=watch.engine(),
                  state=watch.state(client, settings.workers.namespace, settings.events),
                  publisher=EventLog(client, settings.events), client=client,
                  namespace=settings.workers.namespace)


@dramatiq.actor(queue_name=settings.workers.queue, **actor_options(settings.workers, DIFF_ACTOR))
@classified
def diff_sql_watch(watch: str) -> None:
    result = _differ(watch).run()
    log.info("sql.diff_job", watch=watch, rows=result.rows, events=result.events,
             seeded=result.seeded)


def build_readers() -> SqlReaders:
    client = connect(settings.require_redis_url())
    return SqlReaders(settings.watches, client=client, publisher=EventLog(client, settings.events),
                      jobs=DramatiqJobs(broker), namespace=settings.workers.namespace,
                      queue=settings.workers.queue, events=settings.events)


def main() -> None:
    """Run the readers until SIGTERM/SIGINT."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info("sql.readers_started", watches=sorted(settings.watches))
    build_readers().run(stop)


if __name__ == "__main__":
    main()

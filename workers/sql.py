"""SQL watches on the workers: the diff actor.

``diff_sql_watch(watch)`` runs `domains.sqlwatch.differ.Differ` (poll,
watermark and query watches); it is idempotent (deterministic event ids, one
diff of a watch at a time). The readers (one per watch, each under its own
Redis lease) run in the scheduler process: `workers.scheduler.start_sql_readers`.
"""

from __future__ import annotations

import dramatiq
import structlog

from domains.sqlwatch.differ import Differ
from domains.sqlwatch.jobs import DIFF_ACTOR
from domains.sqlwatch.watch import find_watch
from workers.broker import context, settings
from workers.context import WorkerContext
from workers.errors import classified
from workers.policies import actor_options

log = structlog.get_logger(__name__)


def differ(name: str) -> Differ:
    """This process's differ of watch *name*, on its `WorkerContext`."""

    def build(ctx: WorkerContext) -> Differ:
        watch = find_watch(ctx.settings.watches, name)
        namespace = ctx.settings.workers.namespace
        return Differ(watch, engine=watch.engine(),
                      state=watch.state(ctx.redis, namespace, ctx.settings.events),
                      publisher=ctx.event_log, client=ctx.redis, namespace=namespace)

    return context().service(f"sql.differ.{name}", build)


@dramatiq.actor(queue_name=settings.workers.queue, **actor_options(settings.workers, DIFF_ACTOR))
@classified
def diff_sql_watch(watch: str) -> None:
    result = differ(watch).run()
    log.info("sql.diff_job", watch=watch, rows=result.rows, events=result.events,
             seeded=result.seeded)

"""The Airtable write actor: runs one queued write job (domains/airtable/writes.py).

Thin on purpose: the job's logic lives in the domain package. A job that must
wait (a 429 pause, Airtable down, the budget busy, its time slice used) is
retried after that wait for as long as it takes (``retry_when``); only other
failures count against the actor's ``max_retries``, and when those are spent
`airtable_write_gave_up` fails the job's unwritten records and publishes
``job.failed``.
"""

from __future__ import annotations

from typing import Any

import dramatiq
import structlog

from domains.airtable.errors import MustWait
from domains.airtable.jobs import ACTOR_NAME
from domains.airtable.services import build_runner
from domains.airtable.writes import WriteRunner
from workers import broker as broker_module
from workers.broker import context
from workers.errors import RateLimited, classified
from workers.policies import actor_options, policy_for

log = structlog.get_logger(__name__)
settings = broker_module.settings
SLICE_SHARE = 0.4  # of the actor's time limit, spent on one run before continuing anew
GAVE_UP_ACTOR_NAME = "airtable_write_gave_up"


def runner() -> WriteRunner:
    """This process's write runner, on its `WorkerContext`."""
    slice_s = policy_for(settings.workers, ACTOR_NAME).time_limit_s * SLICE_SHARE
    return context().service("airtable.writes", lambda ctx: build_runner(
        ctx.redis, ctx.settings, ctx.event_log, slice_s=slice_s))


def retry_when(retries: int, exc: BaseException) -> bool:
    """Waits are retried without end; other failures up to the actor's max_retries."""
    if isinstance(exc, dramatiq.Retry):
        return True
    return retries < policy_for(settings.workers, ACTOR_NAME).max_retries


@dramatiq.actor(queue_name=settings.workers.queue,
                **actor_options(settings.workers, GAVE_UP_ACTOR_NAME))
@classified
def airtable_write_gave_up(message: dict[str, Any], retry_info: dict[str, Any]) -> None:
    """Called by dramatiq's Retries when a write job's retries are spent: fail it, publish."""
    job_id = str(message["args"][0])
    summary = runner().give_up(job_id, f"gave up after {retry_info.get('retries')} retries")
    log.warning("airtable.job_gave_up", airtable_job=job_id, failed=summary and summary["failed"])


@dramatiq.actor(queue_name=settings.workers.queue, retry_when=retry_when,
                on_retry_exhausted=GAVE_UP_ACTOR_NAME,
                **actor_options(settings.workers, ACTOR_NAME))
@classified
def airtable_write(job_id: str) -> None:
    structlog.contextvars.bind_contextvars(airtable_job=job_id)
    try:
        runner().run(job_id)
    except MustWait as exc:
        log.info("airtable.job_waits", retry_after_s=round(exc.retry_after_s, 3),
                 reason=type(exc).__name__)
        raise RateLimited(str(exc), retry_after_s=exc.retry_after_s) from exc
    finally:
        structlog.contextvars.unbind_contextvars("airtable_job")

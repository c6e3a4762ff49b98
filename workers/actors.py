"""Actors. Messages carry small JSON-native arguments; actors are idempotent.

A delivery's event id derives from the sender's delivery id and the event log
drops ids it has already appended, so a job that runs twice (a retry, a
redelivery after a crash) publishes once. Each actor's retries and time limit
come from `workers.policies`; what it raises is classified (`workers.errors`)
into transient (retried with back-off) and permanent (dead-lettered at once).
"""

from __future__ import annotations

import dramatiq
import structlog

from common.errors import ConfigError
from workers import airtable_writes, maintenance, sql  # noqa: F401  (their actors: every worker has them)
from workers import broker as broker_module
from workers.airtable import handle_ping
from workers.deliveries import event_from_delivery
from workers.errors import classified
from workers.periodic import check_actor_jobs
from workers.policies import actor_options, check_actor_names

log = structlog.get_logger(__name__)
settings = broker_module.settings
broker = broker_module.broker
context = broker_module.context


@dramatiq.actor(queue_name=settings.workers.queue,
                **actor_options(settings.workers, "process_delivery"))
@classified
def process_delivery(source: str, event_id: str, body: str, received_at_ms: int) -> None:
    structlog.contextvars.bind_contextvars(source=source, event_id=event_id)
    try:
        config = settings.sources.get(source)
        if config is None:
            raise ConfigError(f"delivery for unknown source {source!r}")
        if config.kind == "airtable":  # a ping: the change sync publishes the record events
            handle_ping(source, body)
            return
        event = event_from_delivery(source, config, event_id=event_id, body=body)
        published = context().event_log.publish(event)
        log.info("delivery.published", topic=event.topic, position=published.position,
                 duplicate=published.duplicate, received_at_ms=received_at_ms)
    finally:
        structlog.contextvars.unbind_contextvars("source", "event_id")


@dramatiq.actor(queue_name=settings.workers.periodic_queue,
                **actor_options(settings.workers, "trim_event_log"))
@classified
def trim_event_log() -> None:
    """Periodic: keep the event log within its age and length limits when idle."""
    trimmed = maintenance.trim_event_log(context().redis, settings.events)
    log.info("event_log.trimmed", entries=trimmed)


check_actor_names(settings.workers, broker.actors)
check_actor_jobs(broker.actors)

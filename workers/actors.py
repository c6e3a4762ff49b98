"""Actors. Messages carry small JSON-native arguments; actors are idempotent.

A delivery's event id derives from the sender's delivery id and the event log
drops ids it has already appended, so a job that runs twice publishes once.
"""

from __future__ import annotations

from functools import cache

import dramatiq
import structlog

from common.errors import ConfigError, InvalidTopic, TemplateError
from common.events import InvalidEvent
from common.publishing import EventLog
from common.redis import connect
from workers import broker as broker_module
from workers.deliveries import event_from_delivery

log = structlog.get_logger(__name__)
settings = broker_module.settings
PERMANENT = (TemplateError, InvalidEvent, InvalidTopic, ConfigError, ValueError)


@cache
def event_log() -> EventLog:
    """This process's event log client, made on first use (after any fork)."""
    return EventLog(connect(settings.require_redis_url()), settings.events)


@dramatiq.actor(
    queue_name=settings.workers.queue,
    max_retries=settings.workers.max_retries,
    time_limit=int(settings.workers.time_limit_s * 1000),
    throws=PERMANENT,
)
def process_delivery(source: str, event_id: str, body: str, received_at_ms: int) -> None:
    structlog.contextvars.bind_contextvars(source=source, event_id=event_id)
    try:
        config = settings.sources.get(source)
        if config is None:
            raise ConfigError(f"delivery for unknown source {source!r}")
        event = event_from_delivery(source, config, event_id=event_id, body=body)
        published = event_log().publish(event)
        log.info("delivery.published", topic=event.topic, position=published.position,
                 duplicate=published.duplicate, received_at_ms=received_at_ms)
    finally:
        structlog.contextvars.unbind_contextvars("source", "event_id")

"""Turning a verified delivery into an `Event`: plain functions, tested directly."""

from __future__ import annotations

from typing import Any

import orjson

from common.events import Event
from common.settings import SourceSettings
from common.templates import render, template_context


def event_from_delivery(source_name: str, source: SourceSettings, *, event_id: str,
                        body: str) -> Event:
    """The event a webhook delivery becomes: topic and type from the source's templates."""
    payload: Any = orjson.loads(body)
    context = template_context(payload, source_name)
    return Event(
        id=event_id,
        topic=render(source.topic, context),
        type=render(source.type, context),
        data=payload,
        source=source_name,
    )

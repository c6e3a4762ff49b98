"""Routing checked at the door: a source's topic/type templates and its type filters.

The worker renders the same templates (workers/deliveries.py) when it turns a
job into an event; rendering them here first means a payload that cannot be
routed gets a clear 400 instead of a job that can only fail, and a filtered
event type is acknowledged without a job at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from api.errors import BadRequest
from common.errors import InvalidTopic, TemplateError
from common.settings import SourceSettings
from common.templates import render, template_context
from common.topics import validate_topic


@dataclass(frozen=True, slots=True)
class Route:
    """Where a delivery goes; a dropped type has no topic (it goes nowhere)."""

    type: str
    topic: str | None


@dataclass(frozen=True, slots=True)
class Router:
    source: str
    topic_template: str
    type_template: str
    drop_types: Sequence[str] = ()

    @classmethod
    def from_settings(cls, name: str, config: SourceSettings) -> Router:
        return cls(name, config.topic, config.type, tuple(config.drop_types))

    def route(self, payload: Any) -> Route:
        """The type, then (unless ``drop_types`` drops it) the topic; 400 if unroutable."""
        context = template_context(payload, self.source)
        try:
            event_type = render(self.type_template, context)
            if self.drops(event_type):
                return Route(event_type, None)
            return Route(event_type, validate_topic(render(self.topic_template, context)))
        except (TemplateError, InvalidTopic) as exc:
            raise BadRequest(f"cannot route this payload: {exc}", reason="unroutable") from None

    def drops(self, event_type: str) -> bool:
        """True when *event_type* matches one of the source's ``drop_types`` globs."""
        return any(fnmatchcase(event_type, pattern) for pattern in self.drop_types)

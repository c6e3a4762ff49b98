"""The `Event` envelope: the one contract between publishers and the streamer.

Browsers receive it as the JSON ``data:`` of an SSE frame::

    {"id": "...", "topic": "...", "type": "...", "data": {...}, "time": "...", "source": "..."}

In the Redis event log each entry stores the pre-serialised envelope beside the
fields the streamer routes on, so the streamer never parses JSON per client::

    v=1  topic=<topic>  type=<type>  e=<envelope JSON>
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from common.errors import HookstreamError
from common.topics import validate_topic

FORMAT_VERSION = 1
EVENT_ID = re.compile(r"^[A-Za-z0-9_.:@=~-]{1,200}$")
EVENT_TYPE = re.compile(r"^[A-Za-z0-9_.:/-]{1,100}$")


class InvalidEvent(HookstreamError):
    """An event that cannot be published as given."""


def new_event_id() -> str:
    return uuid.uuid4().hex


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Event:
    topic: str
    type: str
    data: Any
    source: str
    id: str = field(default_factory=new_event_id)
    time: str = field(default_factory=utc_now_iso)

    def __post_init__(self) -> None:
        validate_topic(self.topic)
        if not EVENT_ID.match(self.id):
            raise InvalidEvent(f"event id {self.id!r} must be 1-200 of A-Z a-z 0-9 _ . : @ = ~ -")
        if not EVENT_TYPE.match(self.type):
            raise InvalidEvent(f"event type {self.type!r} must be 1-100 of A-Z a-z 0-9 _ . : / -")

    def envelope(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "type": self.type,
            "data": self.data,
            "time": self.time,
            "source": self.source,
        }

    def to_json(self) -> bytes:
        try:
            return orjson.dumps(self.envelope())
        except TypeError as exc:
            raise InvalidEvent(f"event data is not JSON-serialisable: {exc}") from exc

    def to_fields(self) -> dict[str, bytes | str]:
        """The Redis Stream entry for this event."""
        return {"v": str(FORMAT_VERSION), "topic": self.topic, "type": self.type,
                "e": self.to_json()}

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        doc = orjson.loads(raw)
        return cls(id=doc["id"], topic=doc["topic"], type=doc["type"], data=doc["data"],
                   time=doc["time"], source=doc["source"])

    @classmethod
    def from_fields(cls, fields: Mapping[bytes, bytes]) -> Event:
        version = int(fields.get(b"v", b"0"))
        if version != FORMAT_VERSION:
            raise InvalidEvent(f"event log entry has format v{version}, expected v{FORMAT_VERSION}")
        return cls.from_json(fields[b"e"])

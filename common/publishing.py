"""Publishing: the only path by which anything reaches browsers.

One atomic Lua call appends an `Event` to the Redis Stream event log, trims the
log by count and by age, and remembers the event id for a window so that a job
run twice (a retry, a redelivery after a crash) never appends the same event
twice. The stream entry id is the event's resume position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import redis

from common.errors import EventLogUnavailable
from common.events import Event
from common.keys import event_seen_key
from common.redis import text
from common.settings import EventLogSettings

# KEYS[1] stream, KEYS[2] "seen" key of this event id
# ARGV[1] max length, ARGV[2] max age in ms, ARGV[3] dedupe window in s, ARGV[4..] fields
APPEND_SCRIPT = """
local seen = redis.call('GET', KEYS[2])
if seen then return {0, seen} end
local position = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 4))
redis.call('SET', KEYS[2], position, 'EX', ARGV[3])
local now = redis.call('TIME')
local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[2])
if cutoff > 0 then redis.call('XTRIM', KEYS[1], 'MINID', cutoff) end
return {1, position}
"""


@dataclass(frozen=True, slots=True)
class Published:
    position: str
    duplicate: bool


class EventPublisher(Protocol):
    def publish(self, event: Event) -> Published: ...


class BatchPublisher(EventPublisher, Protocol):
    """A publisher that can append several events in one round trip, in order."""

    def publish_many(self, events: Sequence[Event]) -> list[Published]: ...


class EventLog:
    """The Redis Stream event log (a synchronous `EventPublisher`)."""

    def __init__(self, client: redis.Redis, settings: EventLogSettings) -> None:
        self._client = client
        self._settings = settings
        self._append = client.register_script(APPEND_SCRIPT)

    @property
    def stream_key(self) -> str:
        return self._settings.stream_key

    def seen_key(self, event_id: str) -> str:
        return event_seen_key(self._settings.stream_key, event_id)

    def publish(self, event: Event) -> Published:
        try:
            created, position = self._append(keys=self._keys(event), args=self._args(event))
        except redis.RedisError as exc:
            raise EventLogUnavailable(f"event log append failed: {exc}") from exc
        return Published(position=text(position), duplicate=not created)

    def publish_many(self, events: Sequence[Event]) -> list[Published]:
        """Append *events* in order in one round trip (each still deduplicated by its id)."""
        pipe = self._client.pipeline(transaction=False)
        for event in events:
            self._append(keys=self._keys(event), args=self._args(event), client=pipe)
        try:
            replies = pipe.execute() if events else []
        except redis.RedisError as exc:
            raise EventLogUnavailable(f"event log append failed: {exc}") from exc
        return [Published(position=text(position), duplicate=not created)
                for created, position in replies]

    def _keys(self, event: Event) -> list[str]:
        return [self.stream_key, self.seen_key(event.id)]

    def _args(self, event: Event) -> list[bytes | str | int]:
        args: list[bytes | str | int] = [
            self._settings.max_len,
            self._settings.max_age_s * 1000,
            self._settings.dedupe_window_s,
        ]
        for name, value in event.to_fields().items():
            args += [name, value]
        return args


class MemoryPublisher:
    """An in-memory `EventPublisher` for unit tests of code that publishes."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._positions: dict[str, str] = {}

    def publish(self, event: Event) -> Published:
        if event.id in self._positions:
            return Published(position=self._positions[event.id], duplicate=True)
        position = f"{len(self.events) + 1}-0"
        self._positions[event.id] = position
        self.events.append(event)
        return Published(position=position, duplicate=False)

    def publish_many(self, events: Sequence[Event]) -> list[Published]:
        return [self.publish(event) for event in events]

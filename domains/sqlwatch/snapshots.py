"""Snapshots of a watch's rows on one topic, for ``GET /sql/{watch}/snapshot`` and the CLI.

Read from the rows the watch keeps in Redis, never from the database, so a
thousand viewers loading their page put no load on it; `state.WatchState.snapshot`
explains why the returned position makes "load, then stream from it" gapless.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import redis

from common.settings import EventLogSettings, WatchSettings
from domains.sqlwatch.errors import UnknownWatch
from domains.sqlwatch.state import Snapshot
from domains.sqlwatch.watch import find_watch


class SnapshotSource(Protocol):
    def watches(self) -> list[str]: ...

    def snapshot(self, watch: str, topic: str) -> Snapshot: ...


class RedisSnapshots:
    def __init__(self, client: redis.Redis, watches: Mapping[str, WatchSettings], *,
                 namespace: str, events: EventLogSettings) -> None:
        self._client = client
        self._watches = watches
        self._namespace = namespace
        self._events = events

    def watches(self) -> list[str]:
        return sorted(self._watches)

    def snapshot(self, watch: str, topic: str) -> Snapshot:
        """Raises `UnknownWatch` for a name that is not configured."""
        found = find_watch(self._watches, watch)
        return found.state(self._client, self._namespace, self._events).snapshot(topic)


class NoSnapshots:
    """A `SnapshotSource` with no watches (every name is unknown): apps and tests without SQL."""

    def watches(self) -> list[str]:
        return []

    def snapshot(self, watch: str, topic: str) -> Snapshot:
        raise UnknownWatch(f"no watch named {watch!r} (no [watches] configured)")

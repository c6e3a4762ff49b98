"""The last published rows of a watch, in Redis: what the next diff compares with, and snapshots.

Layout (`keys`): ``rows`` HASH key id -> serialised `Entry`; ``topic:T`` SET of
the key ids on topic T; ``meta`` HASH with ``position`` (the event-log id of the
last event the rows reflect), ``inflight`` (1 while a batch is being published),
``generation``, ``watermark`` and times for ``hookstream sql status``.

The one writer of a watch (its reader, or the worker holding the diff lock)
always goes: `begin` (inflight=1) -> publish the batch's events -> `commit`
(rows, topic sets and position in one MULTI, inflight=0). So a restart after
publishing re-publishes the same deterministic ids (dropped by the event log)
and then writes the rows; nothing is announced twice, nothing lost.

Gapless snapshots. `snapshot` first reads the event log's last id P, then, in
one Lua call on the watch's keys, the topic's rows, ``inflight`` and
``position``. If no batch is in flight, every event of this watch published so
far is in the rows, and any later one has an id above P: the client loads the
rows and streams from P. If a batch is in flight, the rows reflect exactly the
events up to ``position``, so that is returned instead: the in-flight events
come after it. Either way no event is missed; at worst an event the rows
already reflect is delivered again, and applying a row event twice is harmless
(events carry values, not increments).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis

from common.redis import text
from domains.sqlwatch import keys
from domains.sqlwatch.diff import Entry

# KEYS[1] topic set, KEYS[2] rows hash, KEYS[3] meta hash
SNAPSHOT_SCRIPT = """
local ids = redis.call('SMEMBERS', KEYS[1])
local rows = {}
if #ids > 0 then rows = redis.call('HMGET', KEYS[2], unpack(ids)) end
local meta = redis.call('HMGET', KEYS[3], 'inflight', 'position')
return {ids, rows, meta[1] or '0', meta[2] or '0-0'}
"""


@dataclass(frozen=True, slots=True)
class Snapshot:
    rows: list[dict[str, Any]]
    keys: list[str]
    position: str


class WatchState:
    def __init__(self, client: redis.Redis, namespace: str, watch: str, *,
                 stream_key: str) -> None:
        self._client = client
        self._namespace = namespace
        self._watch = watch
        self._stream_key = stream_key
        self._rows_key = keys.rows_key(namespace, watch)
        self._meta_key = keys.meta_key(namespace, watch)
        self._snapshot = client.register_script(SNAPSHOT_SCRIPT)

    def load_all(self) -> dict[str, bytes]:
        raw: dict[bytes, bytes] = self._client.hgetall(self._rows_key)  # type: ignore[assignment]
        return {text(ident): value for ident, value in raw.items()}

    def load(self, idents: list[str]) -> dict[str, bytes | None]:
        if not idents:
            return {}
        values: list[bytes | None] = self._client.hmget(self._rows_key, idents)  # type: ignore[assignment]
        return dict(zip(idents, values, strict=True))

    def meta(self) -> dict[str, str]:
        raw: dict[bytes, bytes] = self._client.hgetall(self._meta_key)  # type: ignore[assignment]
        return {text(name): text(value) for name, value in raw.items()}

    def begin(self) -> None:
        self._client.hset(self._meta_key, "inflight", 1)

    def commit(self, before: Mapping[str, bytes | None], after: Mapping[str, bytes | None], *,
               position: str | None, extra: Mapping[str, str | int | float] | None = None
               ) -> None:
        """Write the rows that changed (None = gone), their topic sets and the position."""
        pipe = self._client.pipeline(transaction=True)
        for ident, new in after.items():
            self._move(pipe, ident, before.get(ident), new)
        meta: dict[Any, Any] = {"inflight": 0, "updated_at_ms": int(time.time() * 1000)}
        if position is not None:
            meta["position"] = position
        meta.update(extra or {})
        pipe.hset(self._meta_key, mapping=meta)
        pipe.execute()

    def replace_all(self, entries: Mapping[str, bytes], *, position: str,
                    chunk: int = 5_000) -> None:
        """Make the rows exactly *entries* (a re-seed), without publishing anything."""
        previous = self.load_all()
        gone = {ident: None for ident in previous.keys() - entries.keys()}
        changed = {ident: raw for ident, raw in entries.items() if previous.get(ident) != raw}
        items = list({**gone, **changed}.items())
        for start in range(0, len(items), chunk):
            part = dict(items[start:start + chunk])
            self.commit({ident: previous.get(ident) for ident in part}, part, position=None)
        self._client.hset(self._meta_key, mapping={"position": position, "seeded": 1})

    def log_position(self) -> str:
        """The event log's last id now ('0-0' when empty)."""
        last: list[tuple[bytes, Any]] = self._client.xrevrange(  # type: ignore[assignment]
            self._stream_key, count=1)
        return text(last[0][0]) if last else "0-0"

    def snapshot(self, topic: str) -> Snapshot:
        """The rows on *topic* and the event-log position to stream from (see module doc)."""
        tail = self.log_position()
        ids, rows, inflight, position = self._snapshot(keys=[
            keys.topic_key(self._namespace, self._watch, topic), self._rows_key, self._meta_key])
        entries = [Entry.loads(raw) for raw in rows if raw is not None]
        settled = text(inflight) in ("0", "")
        return Snapshot(rows=[entry.row for entry in entries if entry.topic == topic],
                        keys=[text(ident) for ident in ids],
                        position=tail if settled else text(position))

    def _move(self, pipe: Any, ident: str, old: bytes | None, new: bytes | None) -> None:
        old_topic = Entry.loads(old).topic if old is not None else None
        new_topic = Entry.loads(new).topic if new is not None else None
        if old_topic is not None and old_topic != new_topic:
            pipe.srem(keys.topic_key(self._namespace, self._watch, old_topic), ident)
        if new is None:
            pipe.hdel(self._rows_key, ident)
            return
        pipe.hset(self._rows_key, ident, new)
        if new_topic is not None and new_topic != old_topic:
            pipe.sadd(keys.topic_key(self._namespace, self._watch, new_topic), ident)

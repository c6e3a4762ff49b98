"""Turning changes into published events and state, in the order that loses and repeats nothing.

`apply_changes` (push mode: change-log rows carry the old and new row) and
`apply_diff` (poll, watermark and query watches: rows read now against the
rows in Redis) both end in `publish_and_commit`: mark the state in flight,
publish each event under its deterministic id, then write the rows and the
position of the last event (see `state`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from common.events import Event
from common.publishing import BatchPublisher
from domains.sqlwatch.changelog import Change, event_ids
from domains.sqlwatch.diff import (
    Entry,
    RowEvent,
    Shape,
    diff_all,
    diff_entry,
    entry_of,
    key_from_id,
    key_id,
)
from domains.sqlwatch.state import WatchState

SOURCE = "sql"


@dataclass
class Batch:
    """Events to publish (with their ids) and the row transitions they announce."""

    events: list[tuple[str, RowEvent]] = field(default_factory=list)
    before: dict[str, bytes | None] = field(default_factory=dict)
    after: dict[str, bytes | None] = field(default_factory=dict)

    def move(self, ident: str, before: bytes | None, after: bytes | None) -> None:
        self.before.setdefault(ident, before)
        self.after[ident] = after


def batch_from_changes(shape: Shape, changes: Sequence[Change],
                       stored: Mapping[str, bytes | None]) -> Batch:
    """Events of change-log rows, in log order; *stored* holds the current rows of their keys."""
    batch = Batch()
    for change in changes:
        events: list[RowEvent] = []
        for ident, before, after in _transitions(shape, change):
            events += diff_entry(shape, key_from_id(shape, ident), before, after)
            current = batch.after.get(ident, stored.get(ident))
            batch.move(ident, current, after.dumps() if after is not None else None)
        batch.events += zip(event_ids(shape.watch, change, len(events)), events, strict=True)
    return batch


def changed_keys(shape: Shape, changes: Iterable[Change]) -> list[str]:
    idents = []
    for change in changes:
        idents += [key_id(shape, row) for row in (change.old, change.new) if row is not None]
    return list(dict.fromkeys(idents))


def batch_from_rows(shape: Shape, previous: Mapping[str, bytes], current: Mapping[str, bytes],
                    *, generation: int) -> Batch:
    """Events from a diff of serialised rows; ids derive from the generation and the change."""
    batch = Batch()
    for ident, events in diff_all(shape, previous, current):
        before, after = previous.get(ident), current.get(ident)
        digest = hashlib.sha1(b"|".join([ident.encode(), before or b"", after or b""]),
                              usedforsecurity=False).hexdigest()[:20]
        batch.events += [(f"sql.{shape.watch}.g{generation}.{digest}.{index}", event)
                         for index, event in enumerate(events)]
        batch.move(ident, before, after)
    return batch


def publish_and_commit(batch: Batch, publisher: BatchPublisher, state: WatchState, *,
                       extra: Mapping[str, str | int | float] | None = None,
                       chunk: int = 500) -> int:
    """Publish the batch (pipelined, in order), then write its rows; returns how many were new."""
    if not batch.after and not extra:
        return 0
    state.begin()
    position, fresh = None, 0
    events = [Event(topic=e.topic, type=e.type, data=e.data, source=SOURCE, id=event_id)
              for event_id, e in batch.events]
    for start in range(0, len(events), chunk):
        for published in publisher.publish_many(events[start:start + chunk]):
            position, fresh = published.position, fresh + (not published.duplicate)
    state.commit(batch.before, batch.after, position=position, extra=extra)
    return fresh


def _transitions(shape: Shape, change: Change
                 ) -> list[tuple[str, Entry | None, Entry | None]]:
    """(key id, entry before, entry after) for one change; a key update is a remove + add."""
    old = entry_of(shape, change.old) if change.old is not None else None
    new = entry_of(shape, change.new) if change.new is not None else None
    old_id = key_id(shape, change.old) if change.old is not None else None
    new_id = key_id(shape, change.new) if change.new is not None else None
    if old_id is not None and new_id is not None and old_id != new_id:
        return [(old_id, old, None), (new_id, None, new)]
    ident = new_id if new_id is not None else old_id
    return [(ident, old, new)] if ident is not None else []

"""Reading the change log (``hookstream_changes``) in commit order, then deleting what was read.

Why delete-after-publish never skips a late commit. On PostgreSQL (and InnoDB)
the ``id`` of a change-log row is drawn when the trigger runs, not when its
transaction commits: transaction A may write id 10, transaction B write id 11
and commit, and A commit a second later. A reader that kept a high-water mark
(``id > 11``) would skip A's row for ever; timestamps have the same flaw. We
keep no mark at all: every pass reads *every* row of the watch still in the
table (``ORDER BY id``, READ COMMITTED, a fresh snapshot per pass), publishes
them, and then deletes exactly the ids it read (``id IN (...)``, never a range,
because a range could delete A's row that became visible between the read and
the delete). A row not yet committed is invisible and untouched; it is read by
the first pass after its commit. Nothing is skipped and the table holds only
unpublished changes (the log is pruned as it is read).

Order. Rows are published in id order within a pass, and passes follow each
other, so a change is published after every change committed before the pass
that first saw it. For one row (one key) this is exactly commit order: a second
writer of the same row waits on the first writer's row lock, so its trigger
runs, and draws its id, after the first has committed. Changes to *different*
rows of concurrent transactions may come out in id order rather than commit
order, which no subscriber can observe, because events of different keys carry
full values and never depend on each other. (``xid`` is kept in the log for
diagnosis; a reader could also limit each pass to rows whose ``xid`` is below
``pg_snapshot_xmin(pg_current_snapshot())`` to publish whole transactions in
order, at the price of waiting for the longest running transaction.)

Restart. A reader that dies after publishing and before deleting reads the same
rows again; each event id derives from the change-log id (`event_ids`), and the
event log drops an id it already appended, so nothing is repeated; nothing is
missed because nothing is deleted before it is published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from domains.sqlwatch.triggers import CHANGES_TABLE

READ = sa.text(f"SELECT id, tbl, op, old_row, new_row, created_at FROM {CHANGES_TABLE} "
               "WHERE watch = :watch ORDER BY id LIMIT :limit")
DELETE = sa.text(f"DELETE FROM {CHANGES_TABLE} WHERE id IN :ids").bindparams(
    sa.bindparam("ids", expanding=True))
COUNT = sa.text(f"SELECT count(*), min(created_at) FROM {CHANGES_TABLE} WHERE watch = :watch")


@dataclass(frozen=True, slots=True)
class Change:
    """One change-log row: the operation on one row of *table*, rows as dicts (or None)."""

    id: int
    table: str
    op: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    created_at: datetime | None


def read_changes(connection: sa.Connection, watch: str, *, limit: int) -> list[Change]:
    """The oldest *limit* committed, unpublished changes of *watch*, by id."""
    result = connection.execute(READ, {"watch": watch, "limit": limit})
    return [Change(int(row.id), str(row.tbl), str(row.op).strip(), _json(row.old_row),
                   _json(row.new_row), _time(row.created_at)) for row in result]


def delete_changes(connection: sa.Connection, ids: Sequence[int]) -> None:
    """Prune exactly the rows that were read and published (never an id range)."""
    if ids:
        connection.execute(DELETE, {"ids": list(ids)})


def backlog(connection: sa.Connection, watch: str) -> tuple[int, datetime | None]:
    """How many changes wait, and when the oldest was written (for ``sql status``)."""
    count, oldest = connection.execute(COUNT, {"watch": watch}).one()
    return int(count), _time(oldest)


def event_ids(watch: str, change: Change, count: int) -> list[str]:
    """Deterministic event ids of the *count* events one change produces."""
    return [f"sql.{watch}.c{change.id}.{index}" for index in range(count)]


def _json(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    loaded = orjson.loads(value)
    return loaded if isinstance(loaded, dict) else None


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(
        str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

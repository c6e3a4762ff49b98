"""The diff job a worker runs for poll, watermark and query watches.

Full mode reads every row, serialises it and compares bytes with the rows kept
in Redis (`diff.diff_all`); watermark mode reads only the rows whose watermark
moved and compares those keys (deleted rows are not seen in watermark mode).
The first run of a watch stores the rows silently, so neither a first start
nor a restart announces every row. One diff of a watch runs at a time (a
short Redis lock), and the reader's ``pending`` flag is cleared as the job
starts, so a change during a diff gets a diff of its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
import sqlalchemy as sa
import structlog

from common.publishing import BatchPublisher
from domains.sqlwatch import keys
from domains.sqlwatch.applier import batch_from_rows, publish_and_commit
from domains.sqlwatch.diff import serialise_rows
from domains.sqlwatch.errors import WatchBusy
from domains.sqlwatch.lease import Lease
from domains.sqlwatch.rows import dump_mark, load_mark, read_all, read_since
from domains.sqlwatch.state import WatchState
from domains.sqlwatch.watch import Watch

log = structlog.get_logger(__name__)
LOCK_TTL_S = 120.0
Rows = dict[str, bytes]
Extra = dict[str, str | int | float]


@dataclass(frozen=True, slots=True)
class DiffResult:
    rows: int
    events: int
    elapsed_s: float
    seeded: bool = False


class Differ:
    def __init__(self, watch: Watch, *, engine: sa.Engine, state: WatchState,
                 publisher: BatchPublisher, client: redis.Redis, namespace: str) -> None:
        self._watch = watch
        self._engine = engine
        self._state = state
        self._publisher = publisher
        self._client = client
        self._pending = keys.pending_key(namespace, watch.name)
        self._lock = Lease(client, keys.lock_key(namespace, watch.name), ttl_s=LOCK_TTL_S)

    def run(self, *, wait_s: float = 30.0) -> DiffResult:
        """Diff the watch once (waiting up to *wait_s* for a diff already running)."""
        if not self._lock.wait_for(wait_s):
            raise WatchBusy(f"watch {self._watch.name!r} is being diffed elsewhere")
        try:
            self._client.delete(self._pending)
            return self._diff()
        finally:
            self._lock.release()

    def _diff(self) -> DiffResult:
        started = time.perf_counter()
        meta = self._state.meta()
        seeded = "seeded" in meta
        if self._watch.config.mode == "watermark":
            current, previous, extra = self._watermark(meta, seeded=seeded)
        else:
            current, previous, extra = self._full(seeded=seeded)
        if not seeded:
            self._state.replace_all(current, position=self._state.log_position())
            self._state.commit({}, {}, position=None, extra=extra)
            return DiffResult(len(current), 0, time.perf_counter() - started, seeded=True)
        generation = int(meta.get("generation", "0"))
        batch = batch_from_rows(self._watch.shape, previous, current, generation=generation)
        if batch.after:
            extra.update(generation=generation + 1, last_change_ms=int(time.time() * 1000))
        events = publish_and_commit(batch, self._publisher, self._state, extra=extra)
        result = DiffResult(len(current), events, time.perf_counter() - started)
        log.info("sql.diffed", watch=self._watch.name, rows=result.rows, events=events,
                 elapsed_ms=round(result.elapsed_s * 1000, 1))
        return result

    def _full(self, *, seeded: bool) -> tuple[Rows, Rows, Extra]:
        current = serialise_rows(self._watch.shape, read_all(self._engine, self._watch.config))
        return current, (self._state.load_all() if seeded else {}), {}

    def _watermark(self, meta: dict[str, str], *, seeded: bool) -> tuple[Rows, Rows, Extra]:
        mark = load_mark(meta.get("watermark")) if seeded else None
        rows, new_mark = read_since(self._engine, self._watch.config, mark)
        current = serialise_rows(self._watch.shape, rows)
        stored = self._state.load(list(current)) if seeded else {}
        previous = {ident: raw for ident, raw in stored.items() if raw is not None}
        return current, previous, {"watermark": dump_mark(new_mark)}

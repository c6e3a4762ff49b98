"""Full reconciliation of one table: read every record, publish the drift, store the snapshot.

``hookstream airtable sync BASE TABLE`` runs it. Records are compared by field id
with the table's snapshot (the last known records, which the change sync keeps
up to date); each difference is published as the same record event the change
sync would have sent. Event ids derive from the record and its new state, so a
second run over the same drift publishes nothing new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis
from pyairtable import Api

from common.events import Event
from common.publishing import EventPublisher
from domains.airtable.changes import record_data, record_event
from domains.airtable.errors import Gone
from domains.airtable.keys import table_generation_key
from domains.airtable.payloads import RecordChange
from domains.airtable.schema import BaseSchema, SchemaCache
from domains.airtable.snapshot import Snapshot
from domains.airtable.transport import ApiFactory, call

PAGE_SIZE = 100
Progress = Callable[[int], None]


@dataclass
class Drift:
    table_id: str
    records: int = 0
    changes: dict[str, RecordChange] = field(default_factory=dict)
    published: int = 0

    def count(self, kind: str) -> int:
        return sum(1 for change in self.changes.values() if change.kind == kind)


def read_table(api: Api, base: str, table_id: str) -> Iterator[list[dict[str, Any]]]:
    """Pages of records (fields by field id), following ``offset``."""
    offset: str | None = None
    while True:
        params: dict[str, Any] = {"pageSize": PAGE_SIZE, "returnFieldsByFieldId": "true"}
        if offset:
            params["offset"] = offset
        page = call(api, "GET", f"{base}/{table_id}", params=params)
        yield list(page.get("records") or [])
        offset = page.get("offset")
        if not offset:
            return


def diff(known: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]
         ) -> dict[str, RecordChange]:
    changes: dict[str, RecordChange] = {}
    for record_id, cells in current.items():
        before = known.get(record_id)
        if before is None:
            changes[record_id] = RecordChange("created", cells)
            continue
        fids = {fid for fid in {*cells, *before} if cells.get(fid) != before.get(fid)}
        if fids:
            changes[record_id] = RecordChange("updated", {f: cells.get(f) for f in fids},
                                              {f: before.get(f) for f in fids})
    for record_id in known.keys() - current.keys():
        changes[record_id] = RecordChange("deleted", {}, known[record_id])
    return changes


def drift_event_id(base: str, table_id: str, record_id: str, change: RecordChange) -> str:
    state = orjson.dumps([change.kind, change.current], option=orjson.OPT_SORT_KEYS)
    return f"at-sync:{base}:{table_id}:{record_id}:{hashlib.sha256(state).hexdigest()[:16]}"


class Reconciler:
    def __init__(self, client: redis.Redis, events: EventPublisher, api: ApiFactory, *,
                 namespace: str, source: str = "airtable-sync") -> None:
        self._client = client
        self._events = events
        self._api = api
        self._ns = namespace
        self._source = source
        self.schemas = SchemaCache(client, api, namespace=namespace)
        self.snapshot = Snapshot(client, namespace=namespace)

    def table_id(self, base: str, table: str) -> tuple[BaseSchema, str]:
        schema = self.schemas.refresh(base)
        table_id = schema.table_id(table)
        if table_id is None:
            raise Gone(f"base {base} has no table {table!r}")
        return schema, table_id

    def run(self, base: str, table: str, *, publish: bool = True,
            progress: Progress | None = None) -> Drift:
        schema, table_id = self.table_id(base, table)
        current: dict[str, dict[str, Any]] = {}
        for page in read_table(self._api(), base, table_id):
            current.update({r["id"]: dict(r.get("fields") or {}) for r in page})
            if progress is not None:
                progress(len(page))
        drift = Drift(table_id, records=len(current),
                      changes=diff(self.snapshot.records(base, table_id), current))
        if publish:
            drift.published = self._publish(base, table_id, drift.changes, schema)
        self.snapshot.replace(base, table_id, current)
        if drift.changes:
            self._client.incr(table_generation_key(self._ns, base, table_id))
        return drift

    def _publish(self, base: str, table_id: str, changes: dict[str, RecordChange],
                 schema: BaseSchema) -> int:
        published = 0
        for record_id, change in changes.items():
            data = record_data(base, table_id, record_id, change, schema)
            if data is None:
                continue
            event: Event = record_event(
                base=base, table_id=table_id, record_id=record_id, kind=change.kind, data=data,
                event_id=drift_event_id(base, table_id, record_id, change), source=self._source)
            published += 0 if self._events.publish(event).duplicate else 1
        return published

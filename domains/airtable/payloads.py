"""Webhook payloads read from a cursor and merged into whole base transactions.

``GET /v0/bases/{base}/webhooks/{id}/payloads?cursor=N`` answers a page of
payloads, the cursor after it and ``mightHaveMore``. Airtable may split one
transaction into several payloads sharing its ``baseTransactionNumber``;
`transactions` merges consecutive payloads of one transaction (across pages too)
so a record changed in it yields ONE change, and says for each transaction the
cursor that follows it (what to store once its events are published).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pyairtable import Api

from domains.airtable.transport import call

PAGE_LIMIT = 50
Kind = Literal["created", "updated", "deleted"]


@dataclass
class RecordChange:
    kind: Kind
    current: dict[str, Any] = field(default_factory=dict)   # field id -> value
    previous: dict[str, Any] = field(default_factory=dict)  # field id -> old value


@dataclass
class Transaction:
    number: int
    timestamp: str
    next_cursor: int
    source: str = ""
    tables: dict[str, dict[str, RecordChange]] = field(default_factory=dict)

    def add(self, payload: dict[str, Any]) -> None:
        for table_id, changed in (payload.get("changedTablesById") or {}).items():
            records = self.tables.setdefault(table_id, {})
            _created(records, changed.get("createdRecordsById") or {})
            _changed(records, changed.get("changedRecordsById") or {})
            _destroyed(records, changed.get("destroyedRecordIds") or [])

    def field_ids(self) -> dict[str, set[str]]:
        """Table id -> every field id this transaction names (what the schema must know)."""
        return {tid: {fid for change in records.values()
                      for fid in (*change.current, *change.previous)}
                for tid, records in self.tables.items()}


def _created(records: dict[str, RecordChange], created: dict[str, Any]) -> None:
    for record_id, doc in created.items():
        records[record_id] = RecordChange("created", dict(doc.get("cellValuesByFieldId") or {}))


def _changed(records: dict[str, RecordChange], changed: dict[str, Any]) -> None:
    for record_id, doc in changed.items():
        current = dict((doc.get("current") or {}).get("cellValuesByFieldId") or {})
        previous = dict((doc.get("previous") or {}).get("cellValuesByFieldId") or {})
        known = records.get(record_id)
        if known is None or known.kind == "deleted":
            records[record_id] = RecordChange("updated", current, previous)
        elif known.kind == "created":
            known.current.update(current)
        else:
            known.current.update(current)
            known.previous = previous | known.previous  # the earliest old value wins


def _destroyed(records: dict[str, RecordChange], destroyed: list[str]) -> None:
    for record_id in destroyed:
        known = records.get(record_id)
        if known is not None and known.kind == "created":
            del records[record_id]  # born and gone in one transaction: nothing to tell
        else:
            records[record_id] = RecordChange("deleted", {}, known.previous if known else {})


@dataclass
class Page:
    payloads: list[dict[str, Any]]
    cursor: int          # the cursor of the first payload on this page
    next_cursor: int     # the cursor after the last one
    might_have_more: bool


def fetch_page(api: Api, base: str, webhook: str, cursor: int, *,
               limit: int = PAGE_LIMIT) -> Page:
    doc = call(api, "GET", f"bases/{base}/webhooks/{webhook}/payloads",
               params={"cursor": cursor, "limit": limit})
    payloads = list(doc.get("payloads") or [])
    return Page(payloads, cursor, int(doc.get("cursor", cursor + len(payloads))),
                bool(doc.get("mightHaveMore")) and bool(payloads))


def transactions(api: Api, base: str, webhook: str, cursor: int, *,
                 limit: int = PAGE_LIMIT) -> Iterator[Transaction]:
    """Whole transactions from ``cursor`` on, in order, following ``mightHaveMore``."""
    pending: Transaction | None = None
    while True:
        page = fetch_page(api, base, webhook, cursor, limit=limit)
        for index, payload in enumerate(page.payloads):
            number = int(payload.get("baseTransactionNumber", 0))
            if pending is not None and pending.number != number:
                yield pending
                pending = None
            if pending is None:
                pending = Transaction(number, str(payload.get("timestamp", "")), 0,
                                      str((payload.get("actionMetadata") or {}).get("source",
                                                                                    "")))
            pending.add(payload)
            pending.next_cursor = page.cursor + index + 1
        if not page.might_have_more:
            break
        cursor = page.next_cursor
    if pending is not None:
        yield pending

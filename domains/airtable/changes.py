"""Record events: one per record a transaction changed.

Topic ``airtable/{base}/{table}/{record}``; type ``record.created``, ``record.updated``
or ``record.deleted``; data ``{"base", "table", "record", "fields", "previous"}`` with
fields keyed by NAME. ``record.updated`` carries only the fields whose value changed,
and their old values in ``previous``. The id derives from the webhook, the
transaction number and the record, so a payload processed twice (a retried job,
a racing ping, a killed worker) is dropped by the event log the second time.
"""

from __future__ import annotations

from typing import Any

from common.events import Event
from domains.airtable.payloads import RecordChange, Transaction
from domains.airtable.schema import BaseSchema

EVENT_TYPES = {"created": "record.created", "updated": "record.updated",
               "deleted": "record.deleted"}


def topic_for(base: str, table_id: str, record_id: str) -> str:
    return f"airtable/{base}/{table_id}/{record_id}"


def table_topic(base: str, table_id: str) -> str:
    """The pattern a page subscribes to for one table."""
    return f"airtable/{base}/{table_id}/+"


def event_id_for(webhook: str, transaction: int, record_id: str) -> str:
    return f"at:{webhook}:{transaction}:{record_id}"


def changed_only(change: RecordChange) -> tuple[dict[str, Any], dict[str, Any]]:
    """An update's fields whose value really changed, and their old values.

    Airtable leaves empty cells out: a field in ``previous`` but not in ``current``
    was cleared (its new value is None), and one only in ``current`` was empty before.
    """
    if not change.previous:
        return dict(change.current), {}
    named = [*change.current, *(fid for fid in change.previous if fid not in change.current)]
    fields = {fid: change.current.get(fid) for fid in named
              if change.previous.get(fid) != change.current.get(fid)}
    return fields, {fid: change.previous.get(fid) for fid in fields}


def record_data(base: str, table_id: str, record_id: str, change: RecordChange,
                schema: BaseSchema) -> dict[str, Any] | None:
    """The event data of one change, or None for an update that changed nothing."""
    if change.kind == "updated":
        current, previous = changed_only(change)
        if not current:
            return None
    else:
        current, previous = change.current, change.previous
    return {"base": base, "table": table_id, "record": record_id,
            "fields": schema.names(table_id, current),
            "previous": schema.names(table_id, previous)}


def record_event(*, base: str, table_id: str, record_id: str, kind: str, data: dict[str, Any],
                 event_id: str, source: str, time: str | None = None) -> Event:
    extra = {"time": time} if time else {}
    return Event(id=event_id, topic=topic_for(base, table_id, record_id),
                 type=EVENT_TYPES[kind], data=data, source=source, **extra)


def events_for(transaction: Transaction, *, base: str, webhook: str, schema: BaseSchema,
               source: str) -> list[Event]:
    events = []
    for table_id, records in transaction.tables.items():
        for record_id, change in records.items():
            data = record_data(base, table_id, record_id, change, schema)
            if data is None:
                continue
            events.append(record_event(
                base=base, table_id=table_id, record_id=record_id, kind=change.kind, data=data,
                event_id=event_id_for(webhook, transaction.number, record_id), source=source,
                time=transaction.timestamp or None))
    return events

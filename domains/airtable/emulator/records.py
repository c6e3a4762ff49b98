"""Record writes as Airtable answers them: batches of at most 10, PATCH merges,
PUT replaces, ``performUpsert.fieldsToMergeOn``, ``typecast``. Every record of a
request is checked before any is written, so a refused request changes nothing."""

from __future__ import annotations

from typing import Any

from domains.airtable.emulator.errors import invalid
from domains.airtable.emulator.store import Record, Table, TableChange

MAX_RECORDS_PER_REQUEST = 10


def batch(document: Any, key: str = "records") -> list[Any]:
    items = document.get(key) if isinstance(document, dict) else None
    if not isinstance(items, list) or not items:
        raise invalid("INVALID_RECORDS", f"{key} must be a non-empty list")
    if len(items) > MAX_RECORDS_PER_REQUEST:
        raise invalid("INVALID_RECORDS", f"You can send up to {MAX_RECORDS_PER_REQUEST} "
                                         f"records per request, got {len(items)}")
    return items


def fields_of(item: Any) -> dict[str, Any]:
    values = item.get("fields") if isinstance(item, dict) else None
    if not isinstance(values, dict):
        raise invalid("INVALID_RECORDS", "each record needs a fields object")
    return values


def create(table: Table, items: list[Any], *, now_s: float, typecast: bool,
           change: TableChange) -> list[Record]:
    for item in items:
        table.cells_from(fields_of(item), typecast=typecast)
    return [table.create(fields_of(item), now_s=now_s, typecast=typecast, change=change)
            for item in items]


def update(table: Table, items: list[Any], *, typecast: bool, replace: bool,
           change: TableChange) -> list[Record]:
    for item in items:
        table.require_record(str(item.get("id")) if isinstance(item, dict) else "")
        table.cells_from(fields_of(item), typecast=typecast)
    return [table.update(item["id"], fields_of(item), typecast=typecast, replace=replace,
                         change=change) for item in items]


def upsert(table: Table, items: list[Any], merge_on: list[str], *, now_s: float,
           typecast: bool, replace: bool, change: TableChange) -> dict[str, Any]:
    if not merge_on:
        raise invalid("INVALID_REQUEST_UNKNOWN", "fieldsToMergeOn must name 1-3 fields")
    targets = [_upsert_target(table, item, merge_on, typecast=typecast) for item in items]
    created, updated, records = [], [], []
    for item, target in zip(items, targets, strict=True):
        if target is None:
            record = table.create(fields_of(item), now_s=now_s, typecast=typecast, change=change)
            created.append(record.id)
        else:
            record = table.update(target, fields_of(item), typecast=typecast, replace=replace,
                                  change=change)
            updated.append(record.id)
        records.append(record)
    return {"records": records, "createdRecords": created, "updatedRecords": updated}


def _upsert_target(table: Table, item: Any, merge_on: list[str], *,
                   typecast: bool) -> str | None:
    values = fields_of(item)
    if isinstance(item, dict) and item.get("id"):
        return str(table.require_record(str(item["id"])).id)
    cells = table.cells_from(values, typecast=typecast)
    keys = [table.require_field(name).id for name in merge_on]
    missing = [table.require_field(name).name for name in merge_on
               if table.require_field(name).id not in cells]
    if missing:
        raise invalid("INVALID_VALUE_FOR_COLUMN", f"upsert records need {missing}")
    found = [r.id for r in table.records.values()
             if all(r.cells.get(fid) == cells[fid] for fid in keys)]
    if len(found) > 1:
        raise invalid("INVALID_VALUE_FOR_COLUMN",
                      "more than one record matches the fieldsToMergeOn values")
    return found[0] if found else None


def delete(table: Table, record_ids: list[str], *, change: TableChange) -> list[dict[str, Any]]:
    if not record_ids:
        raise invalid("INVALID_RECORDS", "records[] must name at least one record")
    if len(record_ids) > MAX_RECORDS_PER_REQUEST:
        raise invalid("INVALID_RECORDS", f"You can delete up to {MAX_RECORDS_PER_REQUEST} "
                                         f"records per request, got {len(record_ids)}")
    for record_id in record_ids:
        table.require_record(record_id)
    for record_id in record_ids:
        table.delete(record_id, change=change)
    return [{"id": record_id, "deleted": True} for record_id in record_ids]

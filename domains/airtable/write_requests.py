"""A write request as the ingress receives it, checked before it is queued.

``POST .../records`` creates, ``PATCH .../records`` updates (an upsert with
``performUpsert.fieldsToMergeOn``), ``DELETE .../records`` deletes; each with
``{"records": [...]}`` in Airtable's shapes, any number of records (they are
sent 10 at a time). An update record may carry ``"expect": {field: value}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from domains.airtable.errors import InvalidWrite

Op = Literal["create", "update", "upsert", "delete"]
BASE_ID = re.compile(r"^app[A-Za-z0-9]{1,32}$")
RECORD_ID = re.compile(r"^rec[A-Za-z0-9]{1,32}$")
TABLE = re.compile(r"^[^/\x00-\x1f]{1,255}$")


@dataclass(frozen=True, slots=True)
class WriteRequest:
    op: Op
    base: str
    table: str
    records: list[dict[str, Any]]
    typecast: bool = False
    merge_on: list[str] = field(default_factory=list)

    def to_doc(self) -> dict[str, Any]:
        return {"op": self.op, "base": self.base, "table": self.table, "records": self.records,
                "typecast": self.typecast, "merge_on": self.merge_on}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> WriteRequest:
        return cls(op=doc["op"], base=doc["base"], table=doc["table"], records=doc["records"],
                   typecast=bool(doc.get("typecast")), merge_on=list(doc.get("merge_on", [])))


def check_base(base: str) -> str:
    if not BASE_ID.match(base):
        raise InvalidWrite(f"bad base id {base!r} (app followed by letters and digits)")
    return base


def check_table(table: str) -> str:
    if not TABLE.match(table):
        raise InvalidWrite(f"bad table id or name {table!r}")
    return table


def check_record_id(record_id: Any) -> str:
    if not isinstance(record_id, str) or not RECORD_ID.match(record_id):
        raise InvalidWrite(f"bad record id {record_id!r} (rec followed by letters and digits)")
    return record_id


def parse_write(method: str, base: str, table: str, doc: Any) -> WriteRequest:
    """The `WriteRequest` of an HTTP *method* with JSON body *doc*, or `InvalidWrite`."""
    check_base(base)
    check_table(table)
    if not isinstance(doc, dict):
        raise InvalidWrite('body must be a JSON object {"records": [...]}')
    records = doc.get("records")
    if not isinstance(records, list) or not records:
        raise InvalidWrite('"records" must be a non-empty list')
    typecast = doc.get("typecast", False)
    if not isinstance(typecast, bool):
        raise InvalidWrite('"typecast" must be true or false')
    if method == "DELETE":
        return WriteRequest("delete", base, table, [{"id": check_record_id(r)} for r in records])
    if method == "POST":
        return WriteRequest("create", base, table, [_create(r) for r in records], typecast)
    merge_on = _merge_on(doc.get("performUpsert"))
    if merge_on:
        return WriteRequest("upsert", base, table, [_upsert(r) for r in records], typecast,
                            merge_on)
    return WriteRequest("update", base, table, [_update(r) for r in records], typecast)


def _fields(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict) or not isinstance(record.get("fields"), dict):
        raise InvalidWrite('each record must be an object with "fields": {name: value}')
    return dict(record["fields"])


def _create(record: Any) -> dict[str, Any]:
    fields = _fields(record)
    if set(record) - {"fields"}:
        raise InvalidWrite('a record to create has only "fields"')
    return {"fields": fields}


def _update(record: Any) -> dict[str, Any]:
    fields = _fields(record)
    checked: dict[str, Any] = {"id": check_record_id(record.get("id")), "fields": fields}
    expect = record.get("expect")
    if expect is not None:
        if not isinstance(expect, dict) or not expect:
            raise InvalidWrite('"expect" must be a non-empty object {field: value}')
        checked["expect"] = expect
    if set(record) - {"id", "fields", "expect"}:
        raise InvalidWrite('a record to update has "id", "fields" and optionally "expect"')
    return checked


def _upsert(record: Any) -> dict[str, Any]:
    fields = _fields(record)
    if "expect" in record:
        raise InvalidWrite('"expect" is for updates by id, not upserts')
    if "id" in record:
        return {"id": check_record_id(record["id"]), "fields": fields}
    return {"fields": fields}


def _merge_on(upsert: Any) -> list[str]:
    if upsert is None:
        return []
    names = upsert.get("fieldsToMergeOn") if isinstance(upsert, dict) else None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise InvalidWrite('"performUpsert.fieldsToMergeOn" must be a non-empty list of names')
    return names

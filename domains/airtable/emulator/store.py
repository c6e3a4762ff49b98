"""The emulator's in-memory bases: tables, fields and records, and the changes made to them.

Every mutation returns a `TableChange` (what a webhook payload reports); the
caller groups the changes of one request into one base transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domains.airtable.emulator.cells import FIELD_TYPES, coerce, is_empty
from domains.airtable.emulator.clock import iso
from domains.airtable.emulator.errors import invalid, not_found
from domains.airtable.emulator.ids import new_id

FIELD_OPTIONS: dict[str, dict[str, Any]] = {
    "number": {"precision": 0},
    "checkbox": {"color": "greenBright", "icon": "check"},
    "singleSelect": {"choices": []},
    "multipleSelects": {"choices": []},
}


@dataclass
class Field:
    id: str
    name: str
    type: str

    def schema(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.type in FIELD_OPTIONS:
            doc["options"] = FIELD_OPTIONS[self.type]
        return doc


@dataclass
class Record:
    id: str
    created_s: float
    cells: dict[str, Any] = field(default_factory=dict)


@dataclass
class TableChange:
    """One table's part of a transaction, keyed by field id as webhook payloads are."""

    created: dict[str, Record] = field(default_factory=dict)
    changed: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
    destroyed: list[str] = field(default_factory=list)

    def merge(self, other: TableChange) -> None:
        self.created.update(other.created)
        self.changed.update(other.changed)
        self.destroyed += other.destroyed

    def __bool__(self) -> bool:
        return bool(self.created or self.changed or self.destroyed)


@dataclass
class Table:
    id: str
    name: str
    fields: list[Field]
    view_id: str = field(default_factory=lambda: new_id("viw"))
    records: dict[str, Record] = field(default_factory=dict)

    def field_named(self, name_or_id: str) -> Field | None:
        for candidate in self.fields:
            if name_or_id in (candidate.name, candidate.id):
                return candidate
        return None

    def require_field(self, name_or_id: str) -> Field:
        found = self.field_named(name_or_id)
        if found is None:
            raise invalid("UNKNOWN_FIELD_NAME", f'Unknown field name: "{name_or_id}"')
        return found

    def require_record(self, record_id: str) -> Record:
        record = self.records.get(record_id)
        if record is None:
            raise not_found(f"Record {record_id} not found")
        return record

    def add_field(self, name: str, type_: str, *, field_id: str | None = None) -> Field:
        if type_ not in FIELD_TYPES:
            raise invalid("INVALID_FIELD_TYPE", f"unsupported field type {type_!r}")
        if self.field_named(name) is not None:
            raise invalid("DUPLICATE_OR_EMPTY_FIELD_NAME", f"field {name!r} exists")
        new = Field(id=field_id or new_id("fld"), name=name, type=type_)
        self.fields.append(new)
        return new

    def cells_from(self, values: dict[str, Any], *, typecast: bool) -> dict[str, Any]:
        """Names (or ids) to values -> field ids to checked values (None = clear)."""
        cells: dict[str, Any] = {}
        for key, value in values.items():
            target = self.require_field(key)
            cells[target.id] = coerce(target.type, target.name, value, typecast=typecast)
        return cells

    def render(self, record: Record, *, by_id: bool = False) -> dict[str, Any]:
        return {"id": record.id, "createdTime": iso(record.created_s),
                "fields": self.values(record, by_id=by_id)}

    def values(self, record: Record, *, by_id: bool = False) -> dict[str, Any]:
        names = {item.id: (item.id if by_id else item.name) for item in self.fields}
        return {names[fid]: value for fid, value in record.cells.items() if fid in names}

    def schema(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "primaryFieldId": self.fields[0].id,
                "fields": [item.schema() for item in self.fields],
                "views": [{"id": self.view_id, "name": "Grid view", "type": "grid"}]}

    # -- mutations -------------------------------------------------------

    def create(self, values: dict[str, Any], *, now_s: float, typecast: bool,
               change: TableChange, record_id: str | None = None) -> Record:
        cells = {fid: v for fid, v in self.cells_from(values, typecast=typecast).items()
                 if not is_empty(v)}
        record = Record(id=record_id or new_id("rec"), created_s=now_s, cells=cells)
        self.records[record.id] = record
        change.created[record.id] = record
        return record

    def update(self, record_id: str, values: dict[str, Any], *, typecast: bool,
               replace: bool, change: TableChange) -> Record:
        record = self.require_record(record_id)
        wanted = self.cells_from(values, typecast=typecast)
        if replace:
            wanted = {fid: None for fid in record.cells} | wanted
        current, previous = _apply(record, wanted)
        if current or previous:
            self._note_update(change, record, current, previous)
        return record

    def delete(self, record_id: str, *, change: TableChange) -> None:
        self.require_record(record_id)
        del self.records[record_id]
        change.created.pop(record_id, None)
        change.changed.pop(record_id, None)
        change.destroyed.append(record_id)

    @staticmethod
    def _note_update(change: TableChange, record: Record, current: dict[str, Any],
                     previous: dict[str, Any]) -> None:
        if record.id in change.created:
            return
        before_current, before_previous = change.changed.get(record.id, ({}, {}))
        change.changed[record.id] = (before_current | current, previous | before_previous)


def _apply(record: Record, wanted: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    current: dict[str, Any] = {}
    previous: dict[str, Any] = {}
    for fid, value in wanted.items():
        old = record.cells.get(fid)
        if old == value:
            continue
        current[fid], previous[fid] = value, old
        if value is None:
            record.cells.pop(fid, None)
        else:
            record.cells[fid] = value
    return current, previous


@dataclass
class Base:
    id: str
    name: str
    tables: list[Table] = field(default_factory=list)
    transaction_number: int = 0

    def table(self, id_or_name: str) -> Table:
        for table in self.tables:
            if id_or_name in (table.id, table.name):
                return table
        raise not_found(f"Could not find table {id_or_name} in base {self.id}")

    def add_table(self, name: str, fields: list[dict[str, str]], *,
                  table_id: str | None = None) -> Table:
        if not fields:
            raise invalid("INVALID_REQUEST_UNKNOWN", "a table needs at least one field")
        table = Table(id=table_id or new_id("tbl"), name=name, fields=[])
        for spec in fields:
            table.add_field(spec["name"], spec.get("type", "singleLineText"),
                            field_id=spec.get("id"))
        self.tables.append(table)
        return table

    def next_transaction(self) -> int:
        self.transaction_number += 1
        return self.transaction_number


class Store:
    def __init__(self) -> None:
        self.bases: dict[str, Base] = {}

    def base(self, base_id: str) -> Base:
        base = self.bases.get(base_id)
        if base is None:
            raise not_found(f"Could not find base {base_id}")
        return base

    def add_base(self, name: str, *, base_id: str | None = None) -> Base:
        base = Base(id=base_id or new_id("app"), name=name)
        self.bases[base.id] = base
        return base

    def load(self, document: dict[str, Any], *, now_s: float) -> None:
        """A seed document: ``{"bases": [{"id", "name", "tables": [{"id", "name",
        "fields": [{"id", "name", "type"}], "records": [{"id", "fields"}]}]}]}``."""
        for base_doc in document.get("bases", []):
            base = self.add_base(base_doc.get("name", "Base"), base_id=base_doc.get("id"))
            for table_doc in base_doc.get("tables", []):
                table = base.add_table(table_doc["name"], table_doc["fields"],
                                       table_id=table_doc.get("id"))
                for row in table_doc.get("records", []):
                    table.create(row.get("fields", {}), now_s=now_s, typecast=True,
                                 change=TableChange(), record_id=row.get("id"))

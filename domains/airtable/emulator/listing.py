"""List records: ``view``, ``filterByFormula``, ``fields[]``, ``sort[n][...]``,
``maxRecords``, ``pageSize`` (100 max) and ``offset``, from a GET's query string
or the JSON body of ``POST .../listRecords`` (pyairtable's long-URL fallback)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domains.airtable.emulator.errors import invalid
from domains.airtable.emulator.formula import compile_formula, matches
from domains.airtable.emulator.store import Record, Table

MAX_PAGE_SIZE = 100
SORT_PARAM = re.compile(r"^sort\[(\d+)\]\[(field|direction)\]$")


@dataclass
class Query:
    view: str | None = None
    formula: str | None = None
    fields: list[str] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    max_records: int | None = None
    page_size: int = MAX_PAGE_SIZE
    offset: int = 0
    by_field_id: bool = False


def _int(name: str, raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise invalid("INVALID_REQUEST_UNKNOWN", f"{name} must be an integer") from None


def _flag(raw: Any) -> bool:
    return str(raw).lower() in {"1", "true"}


def _offset(raw: Any) -> int:
    match = re.fullmatch(r"itr(\d+)", str(raw))
    if match is None:
        raise invalid("LIST_RECORDS_ITERATOR_NOT_AVAILABLE", "invalid offset")
    return int(match.group(1))


def query_from_params(params: Mapping[str, list[str]]) -> Query:
    def one(name: str) -> str | None:
        values = params.get(name)
        return values[-1] if values else None

    sorts: dict[int, dict[str, str]] = {}
    for name, values in params.items():
        if match := SORT_PARAM.match(name):
            sorts.setdefault(int(match.group(1)), {})[match.group(2)] = values[-1]
    document = {
        "view": one("view"), "filterByFormula": one("filterByFormula"),
        "fields": params.get("fields[]") or params.get("fields") or [],
        "sort": [sorts[index] for index in sorted(sorts)],
        "maxRecords": one("maxRecords"), "pageSize": one("pageSize"),
        "offset": one("offset"), "returnFieldsByFieldId": one("returnFieldsByFieldId"),
    }
    return query_from_json(document)


def query_from_json(document: Mapping[str, Any]) -> Query:
    query = Query(view=document.get("view"), formula=document.get("filterByFormula"),
                  fields=list(document.get("fields") or []))
    for spec in document.get("sort") or []:
        query.sort.append((spec["field"], str(spec.get("direction", "asc")) == "desc"))
    if document.get("maxRecords") is not None:
        query.max_records = _int("maxRecords", document["maxRecords"])
    if document.get("pageSize") is not None:
        query.page_size = _int("pageSize", document["pageSize"])
        if not 1 <= query.page_size <= MAX_PAGE_SIZE:
            raise invalid("INVALID_PAGE_SIZE", "pageSize must be 1 to 100")
    if document.get("offset"):
        query.offset = _offset(document["offset"])
    query.by_field_id = _flag(document.get("returnFieldsByFieldId"))
    return query


def select(table: Table, query: Query) -> list[Record]:
    if query.view is not None and query.view not in (table.view_id, "Grid view"):
        raise invalid("VIEW_NAME_NOT_FOUND", f'Could not find view "{query.view}"')
    records = list(table.records.values())
    if query.formula:
        node = compile_formula(query.formula)
        records = [r for r in records if matches(node, _lookup(table, r), r.id)]
    for name, descending in reversed(query.sort):
        fid = table.require_field(name).id
        records.sort(key=_sort_key_for(fid), reverse=descending)
    if query.max_records is not None:
        records = records[:query.max_records]
    return records


def _lookup(table: Table, record: Record) -> Any:
    return lambda name: record.cells.get(table.require_field(name).id)


def _sort_key_for(fid: str) -> Callable[[Record], tuple[int, Any]]:
    return lambda record: _sort_key(record.cells.get(fid))


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool | int | float):
        return (1, float(value))
    return (2, str(value))


def page(table: Table, query: Query) -> dict[str, Any]:
    records = select(table, query)
    chunk = records[query.offset:query.offset + query.page_size]
    wanted = {table.require_field(name).id for name in query.fields}
    rendered = []
    for record in chunk:
        doc = table.render(record, by_id=query.by_field_id)
        if wanted:
            keep = {f.id if query.by_field_id else f.name for f in table.fields if f.id in wanted}
            doc["fields"] = {k: v for k, v in doc["fields"].items() if k in keep}
        rendered.append(doc)
    answer: dict[str, Any] = {"records": rendered}
    following = query.offset + query.page_size
    if following < len(records):
        answer["offset"] = f"itr{following}"
    return answer

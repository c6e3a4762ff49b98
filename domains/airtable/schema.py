"""The base schema cache: table and field ids -> names, kept in Redis.

Webhook payloads name tables and fields by id; events name fields by NAME. The
schema is read from ``GET /v0/meta/bases/{base}/tables`` once and cached (with
a TTL so renames show up); a payload that names a field or table the cache does
not know refreshes it at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import redis

from domains.airtable.keys import schema_key
from domains.airtable.transport import ApiFactory, call

SCHEMA_TTL_S = 3_600


@dataclass(frozen=True)
class TableNames:
    name: str
    fields: dict[str, str]  # field id -> name


@dataclass(frozen=True)
class BaseSchema:
    tables: dict[str, TableNames]  # table id -> names

    def knows(self, table_id: str, field_ids: Iterable[str]) -> bool:
        table = self.tables.get(table_id)
        return table is not None and all(fid in table.fields for fid in field_ids)

    def table(self, table_id: str) -> TableNames:
        return self.tables.get(table_id) or TableNames(name=table_id, fields={})

    def table_id(self, id_or_name: str) -> str | None:
        if id_or_name in self.tables:
            return id_or_name
        return next((tid for tid, t in self.tables.items() if t.name == id_or_name), None)

    def names(self, table_id: str, cells: dict[str, Any]) -> dict[str, Any]:
        """Cells keyed by field id -> keyed by field name (an unknown id stays as it is)."""
        fields = self.table(table_id).fields
        return {fields.get(fid, fid): value for fid, value in cells.items()}

    def to_json(self) -> bytes:
        return orjson.dumps({tid: {"name": t.name, "fields": t.fields}
                             for tid, t in self.tables.items()})

    @classmethod
    def from_json(cls, raw: bytes | str) -> BaseSchema:
        doc = orjson.loads(raw)
        return cls({tid: TableNames(t["name"], t["fields"]) for tid, t in doc.items()})

    @classmethod
    def from_api(cls, document: dict[str, Any]) -> BaseSchema:
        return cls({t["id"]: TableNames(t["name"], {f["id"]: f["name"] for f in t["fields"]})
                    for t in document.get("tables", [])})


class SchemaCache:
    def __init__(self, client: redis.Redis, api: ApiFactory, *, namespace: str,
                 ttl_s: int = SCHEMA_TTL_S) -> None:
        self._client = client
        self._api = api
        self._namespace = namespace
        self._ttl_s = ttl_s

    def get(self, base: str) -> BaseSchema:
        raw: bytes | None = self._client.get(schema_key(self._namespace, base))  # type: ignore[assignment]
        return BaseSchema.from_json(raw) if raw else self.refresh(base)

    def covering(self, base: str, needs: dict[str, set[str]]) -> BaseSchema:
        """A schema that knows every table id and field id in ``needs``, refreshed if not."""
        schema = self.get(base)
        if all(schema.knows(tid, fids) for tid, fids in needs.items()):
            return schema
        return self.refresh(base)

    def refresh(self, base: str) -> BaseSchema:
        document = call(self._api(), "GET", f"meta/bases/{base}/tables")
        schema = BaseSchema.from_api(document)
        self._client.set(schema_key(self._namespace, base), schema.to_json(), ex=self._ttl_s)
        return schema

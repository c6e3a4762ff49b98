"""The read-through cache of record reads (list and get), kept in Redis.

An entry's key carries the table's *generation*, a counter the change sync
INCRs on every change event of the table and the write jobs INCR after every
chunk they write: a read first reads the generation, then the entry under it,
so after a change the next read misses and fetches fresh records (the old
entries are never read again and expire). The TTL (``cache_ttl_s``, per table
``table_ttl_s`` by id or name, 0 = never cached) is the fallback for changes
no event reports. A read that fetched under generation *g* stores under *g*:
if a change bumped the counter meanwhile, the entry is simply never used.

Hits and misses are counted in the shared stats hash (``cache_hits``,
``cache_misses``). Reads may name a table; generations are kept per table id,
so names are resolved through the base schema (`TableIds`, cached an hour; also
ids to names, when ``table_ttl_s`` names a table and the read uses its id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyairtable
import redis

from common.redis import text
from common.settings import AirtableSettings
from domains.airtable import keys
from domains.airtable.client import translated
from domains.airtable.errors import Gone

TABLE_NAMES_TTL_S = 3_600


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Airtable's list parameters (every page is followed)."""

    view: str | None = None
    formula: str | None = None
    fields: list[str] = field(default_factory=list)
    sort: list[str] = field(default_factory=list)  # "Name" or "-Name" (descending)
    max_records: int | None = None

    def options(self) -> dict[str, Any]:
        chosen = {"view": self.view, "formula": self.formula, "fields": self.fields or None,
                  "sort": self.sort or None, "max_records": self.max_records}
        return {name: value for name, value in chosen.items() if value is not None}


@dataclass(frozen=True, slots=True)
class Read:
    body: bytes  # Airtable's JSON shape, as served
    hit: bool


class TableIds:
    """Table name <-> id per base, from the base schema (budgeted), kept in Redis an hour."""

    def __init__(self, client: redis.Redis, api: pyairtable.Api, *, namespace: str) -> None:
        self._client = client
        self._api = api
        self._ns = namespace

    def table_id(self, base: str, table: str) -> str:
        if table.startswith("tbl"):
            return table
        found = self._lookup(base, f"name:{table}")
        if found is None:
            raise Gone(f"no table {table!r} in base {base}", error_type="TABLE_NOT_FOUND")
        return found

    def table_name(self, base: str, table_id: str) -> str | None:
        return self._lookup(base, f"id:{table_id}")

    def _lookup(self, base: str, field: str) -> str | None:
        names_k = keys.table_names_key(self._ns, base)
        known = self._client.hget(names_k, field)
        if known is not None:
            return text(known)
        with translated():
            schema = self._api.base(base).schema(force=True)
        mapping = {f"name:{t.name}": t.id for t in schema.tables}
        mapping.update({f"id:{t.id}": t.name for t in schema.tables})
        if mapping:
            self._client.hset(names_k, mapping=mapping)  # type: ignore[arg-type]
            self._client.expire(names_k, TABLE_NAMES_TTL_S)
        return mapping.get(field)


class ReadCache:
    """Generation-keyed entries with a TTL, and the hit/miss counters."""

    def __init__(self, client: redis.Redis, settings: AirtableSettings, *,
                 namespace: str) -> None:
        self._client = client
        self._settings = settings
        self._ns = namespace

    def ttl_s(self, table_id: str, table_name: Callable[[], str | None]) -> int:
        """The table's TTL: an override by id, else by name (looked up only if one is set)."""
        overrides = self._settings.table_ttl_s
        if table_id in overrides:
            return overrides[table_id]
        named = any(not name.startswith("tbl") for name in overrides)
        name = table_name() if named else None
        return self._settings.ttl_for(name) if name else self._settings.cache_ttl_s

    def generation(self, base: str, table_id: str) -> int:
        return int(self._client.get(keys.table_generation_key(self._ns, base, table_id)) or 0)

    def get(self, base: str, table_id: str, generation: int, digest: str) -> bytes | None:
        entry_k = keys.cache_entry_key(self._ns, base, table_id, generation, digest)
        value = self._client.get(entry_k)
        self._count("cache_hits" if value is not None else "cache_misses")
        return value.encode() if isinstance(value, str) else value

    def put(self, base: str, table_id: str, generation: int, digest: str, body: bytes, *,
            ttl_s: int) -> None:
        entry_k = keys.cache_entry_key(self._ns, base, table_id, generation, digest)
        self._client.set(entry_k, body, ex=ttl_s)

    def invalidate(self, base: str, table_id: str) -> int:
        """Bump the table's generation: every cached read of it is stale from now on."""
        return int(self._client.incr(keys.table_generation_key(self._ns, base, table_id)))

    def count_uncached(self) -> None:
        self._count("cache_misses")

    def _count(self, name: str) -> None:
        self._client.hincrby(keys.stats_key(self._ns), name, 1)


class RecordReader:
    """List and get records through the cache; misses go to Airtable (budgeted)."""

    def __init__(self, api: pyairtable.Api, cache: ReadCache, tables: TableIds) -> None:
        self._api = api
        self._cache = cache
        self._tables = tables

    def list_records(self, base: str, table: str, query: ListQuery) -> Read:
        def fetch() -> bytes:
            records = self._api.table(base, table).all(**query.options())
            return orjson.dumps({"records": records})

        return self._read(base, table, ("list", query.options()), fetch)

    def get_record(self, base: str, table: str, record_id: str) -> Read:
        def fetch() -> bytes:
            return orjson.dumps(self._api.table(base, table).get(record_id))

        return self._read(base, table, ("get", record_id), fetch)

    def table_id(self, base: str, table: str) -> str:
        """The id of *table* (an id or a name)."""
        return self._tables.table_id(base, table)

    def invalidate(self, base: str, table: str) -> None:
        """After our own write to *table* (an id or a name)."""
        self._cache.invalidate(base, self._tables.table_id(base, table))

    def _read(self, base: str, table: str, what: Any, fetch: Any) -> Read:
        table_id = self._tables.table_id(base, table)
        ttl_s = self._cache.ttl_s(table_id, lambda: (
            table if table != table_id else self._tables.table_name(base, table_id)))
        if ttl_s == 0:
            self._cache.count_uncached()
            with translated():
                return Read(fetch(), hit=False)
        digest = hashlib.sha256(orjson.dumps(what, option=orjson.OPT_SORT_KEYS)).hexdigest()
        generation = self._cache.generation(base, table_id)
        cached = self._cache.get(base, table_id, generation, digest)
        if cached is not None:
            return Read(cached, hit=True)
        with translated():
            body = fetch()
        self._cache.put(base, table_id, generation, digest, body, ttl_s=ttl_s)
        return Read(body, hit=False)

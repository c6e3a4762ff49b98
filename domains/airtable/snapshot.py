"""The last known records of a table (cells by field id), kept in one Redis hash.

The change sync applies every change it publishes (an update of a record the
snapshot never held whole is left to the next full read); ``airtable sync``
compares a full read of the table with it and publishes the drift. A deleted record's last
known values become its event's ``previous``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import redis

from domains.airtable.keys import snapshot_key
from domains.airtable.payloads import RecordChange


class Snapshot:
    def __init__(self, client: redis.Redis, *, namespace: str) -> None:
        self._client = client
        self._namespace = namespace

    def _key(self, base: str, table_id: str) -> str:
        return snapshot_key(self._namespace, base, table_id)

    def records(self, base: str, table_id: str) -> dict[str, dict[str, Any]]:
        raw: dict[bytes, bytes] = self._client.hgetall(self._key(base, table_id))  # type: ignore[assignment]
        return {rid.decode(): orjson.loads(cells) for rid, cells in raw.items()}

    def known(self, base: str, table_id: str, record_ids: Iterable[str]) -> dict[str, Any]:
        ids = list(record_ids)
        if not ids:
            return {}
        values = self._client.hmget(self._key(base, table_id), ids)
        return {rid: orjson.loads(raw) for rid, raw in zip(ids, values, strict=True) if raw}

    def apply(self, base: str, table_id: str, changes: dict[str, RecordChange]) -> None:
        known = self.known(base, table_id, [rid for rid, c in changes.items()
                                            if c.kind == "updated"])
        pipe = self._client.pipeline(transaction=False)
        for record_id, change in changes.items():
            if change.kind == "deleted":
                pipe.hdel(self._key(base, table_id), record_id)
                continue
            if change.kind == "updated" and record_id not in known:
                continue  # never seen whole: `airtable sync` will find it (no partial rows)
            cells = known[record_id] | change.current if change.kind == "updated" \
                else dict(change.current)
            cells = {fid: value for fid, value in cells.items() if value is not None}
            pipe.hset(self._key(base, table_id), record_id, orjson.dumps(cells))
        pipe.execute()

    def replace(self, base: str, table_id: str, records: dict[str, dict[str, Any]]) -> None:
        key = self._key(base, table_id)
        pipe = self._client.pipeline(transaction=True)
        pipe.delete(key)
        if records:
            pipe.hset(key, mapping={rid: orjson.dumps(cells) for rid, cells in records.items()})
        pipe.execute()

"""Inbound change sync: a verified ping becomes record events, exactly once.

`ChangeSync.on_ping(base, webhook)`:

1. marks the webhook *pending*, then takes its lease (one worker per webhook; a
   ping that finds the lease taken raises `LeaseBusy`, and the job retries once
   the lease lapses: a live holder will have seen the pending mark, a dead one's
   work is picked up);
2. while pending: reads payloads from the stored cursor, following ``mightHaveMore``,
   merged per ``baseTransactionNumber``; for each transaction resolves field ids
   to names (schema cache), publishes one event per record change, applies them to
   the table snapshot, bumps the table's read-cache generation, and only THEN
   advances the cursor (in the script that checks the lease).

A worker killed anywhere in (2) leaves the cursor before the transaction it was
publishing; the retry republishes the same event ids and the event log drops them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis
import structlog

from common.errors import HookstreamError
from common.publishing import EventPublisher
from domains.airtable.changes import events_for
from domains.airtable.keys import (
    cursor_key,
    lease_key,
    pending_key,
    stats_key,
    table_generation_key,
)
from domains.airtable.lease import WebhookLease
from domains.airtable.payloads import Transaction, transactions
from domains.airtable.schema import SchemaCache
from domains.airtable.snapshot import Snapshot
from domains.airtable.transport import ApiFactory

log = structlog.get_logger(__name__)

DEFAULT_LEASE_TTL_S = 15.0
PENDING_TTL_S = 7 * 86_400


class LeaseBusy(HookstreamError):
    """Another worker holds this webhook's lease; try again after ``retry_after_s``."""

    def __init__(self, webhook: str, *, retry_after_s: float) -> None:
        super().__init__(f"webhook {webhook} is being processed by another worker")
        self.retry_after_s = retry_after_s


@dataclass
class SyncResult:
    transactions: int = 0
    published: int = 0
    duplicates: int = 0
    tables: set[str] = field(default_factory=set)


class ChangeSync:
    def __init__(self, client: redis.Redis, events: EventPublisher, api: ApiFactory, *,
                 namespace: str, source: str = "airtable",
                 lease_ttl_s: float = DEFAULT_LEASE_TTL_S) -> None:
        self._client = client
        self._events = events
        self._api = api
        self._ns = namespace
        self._source = source
        self._lease_ttl_s = lease_ttl_s
        self.schemas = SchemaCache(client, api, namespace=namespace)
        self.snapshot = Snapshot(client, namespace=namespace)

    def lease(self, webhook: str) -> WebhookLease:
        return WebhookLease(self._client, lease_key=lease_key(self._ns, webhook),
                            cursor_key=cursor_key(self._ns, webhook), ttl_s=self._lease_ttl_s)

    def on_ping(self, base: str, webhook: str) -> SyncResult:
        self._client.set(pending_key(self._ns, webhook), 1, ex=PENDING_TTL_S)
        result = SyncResult()
        while self._client.exists(pending_key(self._ns, webhook)):
            lease = self.lease(webhook)
            if not lease.acquire():
                self._count("sync_lease_busy")
                raise LeaseBusy(webhook, retry_after_s=lease.remaining_s())
            try:
                while self._client.delete(pending_key(self._ns, webhook)):
                    self._drain(base, webhook, lease, result)
            finally:
                lease.release()
        return result

    def _drain(self, base: str, webhook: str, lease: WebhookLease, result: SyncResult) -> None:
        for transaction in transactions(self._api(), base, webhook, lease.cursor()):
            self._publish(base, webhook, transaction, result)
            if not lease.advance(transaction.next_cursor):
                log.warning("airtable.lease_lost", webhook=webhook,
                            transaction=transaction.number)
                raise LeaseBusy(webhook, retry_after_s=0)
            lease.renew()

    def _publish(self, base: str, webhook: str, transaction: Transaction,
                 result: SyncResult) -> None:
        schema = self.schemas.covering(base, transaction.field_ids())
        for table_id, records in transaction.tables.items():
            self._fill_deleted(base, table_id, records)
        published = duplicates = 0
        for event in events_for(transaction, base=base, webhook=webhook, schema=schema,
                                source=self._source):
            if self._events.publish(event).duplicate:
                duplicates += 1
            else:
                published += 1
        for table_id, records in transaction.tables.items():
            self.snapshot.apply(base, table_id, records)
            self._client.incr(table_generation_key(self._ns, base, table_id))
        self._tally(result, transaction, published=published, duplicates=duplicates)
        log.info("airtable.transaction", base=base, webhook=webhook,
                 transaction=transaction.number, published=published, duplicates=duplicates)

    def _fill_deleted(self, base: str, table_id: str, records: dict[str, Any]) -> None:
        gone = [rid for rid, change in records.items()
                if change.kind == "deleted" and not change.previous]
        for record_id, cells in self.snapshot.known(base, table_id, gone).items():
            records[record_id].previous = cells

    def _tally(self, result: SyncResult, transaction: Transaction, *, published: int,
               duplicates: int) -> None:
        result.transactions += 1
        result.published += published
        result.duplicates += duplicates
        result.tables.update(transaction.tables)
        pipe = self._client.pipeline(transaction=False)
        pipe.hincrby(stats_key(self._ns), "sync_transactions", 1)
        pipe.hincrby(stats_key(self._ns), "sync_events", published)
        pipe.hincrby(stats_key(self._ns), "sync_duplicates", duplicates)
        pipe.execute()

    def _count(self, name: str) -> None:
        self._client.hincrby(stats_key(self._ns), name, 1)

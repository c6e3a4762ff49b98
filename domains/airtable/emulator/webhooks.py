"""Webhooks: the payloads each transaction leaves, listed by cursor, and expiry.

A transaction (one API request or one admin change "by a person") leaves one
payload per matching webhook, or several sharing its ``baseTransactionNumber``
when the admin asks for a split (Airtable splits large transactions too).
Webhooks live 7 days from creation or their last refresh; an expired webhook
is gone (404, absent from the list), as Airtable disables and drops it.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from domains.airtable.emulator.clock import Clock, iso
from domains.airtable.emulator.errors import invalid, not_found
from domains.airtable.emulator.ids import new_id
from domains.airtable.emulator.store import TableChange

LIFETIME_S = 7 * 86_400.0
MAX_PAYLOADS_PER_PAGE = 50
MAX_WEBHOOKS_PER_BASE = 10
FETCH_HISTORY = 10_000


@dataclass
class Transaction:
    base_id: str
    number: int
    timestamp_s: float
    action: dict[str, Any]
    tables: dict[str, TableChange]


@dataclass
class Webhook:
    id: str
    base_id: str
    notification_url: str | None
    specification: dict[str, Any]
    mac_secret: bytes
    expiration_s: float
    payloads: list[dict[str, Any]] = field(default_factory=list)
    notifications_enabled: bool = True
    last_result: dict[str, Any] | None = None
    last_success_s: float | None = None
    fetches: list[dict[str, Any]] = field(default_factory=list)  # for the latency bench

    @property
    def mac_secret_base64(self) -> str:
        return base64.b64encode(self.mac_secret).decode()

    def filters(self) -> dict[str, Any]:
        return dict(self.specification.get("options", {}).get("filters", {}))

    def wants_previous(self) -> bool:
        includes = self.specification.get("options", {}).get("includes") or {}
        return bool(includes.get("includePreviousCellValues"))

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id, "areNotificationsEnabled": self.notifications_enabled,
            "cursorForNextPayload": len(self.payloads) + 1, "isHookEnabled": True,
            "lastSuccessfulNotificationTime": (iso(self.last_success_s)
                                               if self.last_success_s else None),
            "notificationUrl": self.notification_url,
            "lastNotificationResult": self.last_result,
            "expirationTime": iso(self.expiration_s), "specification": self.specification,
        }

    def page(self, cursor: int, limit: int) -> dict[str, Any]:
        started_ms = time.time() * 1000
        first = max(cursor, 1) - 1
        chunk = self.payloads[first:first + limit]
        following = first + len(chunk) + 1
        self.fetches.append({"cursor": cursor, "started_ms": started_ms,
                             "transactions": [p["baseTransactionNumber"] for p in chunk]})
        del self.fetches[:-FETCH_HISTORY]
        return {"payloads": chunk, "cursor": following,
                "mightHaveMore": following <= len(self.payloads)}


def validate_specification(spec: Any) -> dict[str, Any]:
    filters = spec.get("options", {}).get("filters") if isinstance(spec, dict) else None
    if not isinstance(filters, dict) or not filters.get("dataTypes"):
        raise invalid("INVALID_WEBHOOK_SPECIFICATION",
                      "specification.options.filters.dataTypes is required")
    return dict(spec)


def table_payload(change: TableChange, *, with_previous: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if change.created:
        doc["createdRecordsById"] = {
            rid: {"createdTime": iso(rec.created_s), "cellValuesByFieldId": dict(rec.cells)}
            for rid, rec in change.created.items()}
    if change.changed:
        doc["changedRecordsById"] = {
            rid: _changed(current, previous, with_previous=with_previous)
            for rid, (current, previous) in change.changed.items()}
    if change.destroyed:
        doc["destroyedRecordIds"] = list(change.destroyed)
    return doc


def _changed(current: dict[str, Any], previous: dict[str, Any], *,
             with_previous: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {"current": {"cellValuesByFieldId": dict(current)}}
    if with_previous:
        doc["previous"] = {"cellValuesByFieldId": dict(previous)}
    return doc


def split_change(change: TableChange, parts: int) -> list[TableChange]:
    """One table's change dealt record by record into ``parts`` smaller changes."""
    pieces = [TableChange() for _ in range(max(parts, 1))]
    entries: list[tuple[str, str]] = ([("created", rid) for rid in change.created]
                                      + [("changed", rid) for rid in change.changed]
                                      + [("destroyed", rid) for rid in change.destroyed])
    for index, (kind, rid) in enumerate(entries):
        piece = pieces[index % len(pieces)]
        if kind == "created":
            piece.created[rid] = change.created[rid]
        elif kind == "changed":
            piece.changed[rid] = change.changed[rid]
        else:
            piece.destroyed.append(rid)
    return [piece for piece in pieces if piece]


class Webhooks:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.by_base: dict[str, dict[str, Webhook]] = {}
        self.expired: list[dict[str, str]] = []

    def active(self, base_id: str) -> dict[str, Webhook]:
        hooks = self.by_base.setdefault(base_id, {})
        now = self.clock.now_s()
        for hook in [h for h in hooks.values() if h.expiration_s <= now]:
            del hooks[hook.id]
            self.expired.append({"base": base_id, "webhook": hook.id})
        return hooks

    def get(self, base_id: str, webhook_id: str) -> Webhook:
        hook = self.active(base_id).get(webhook_id)
        if hook is None:
            raise not_found(f"Could not find webhook {webhook_id}")
        return hook

    def create(self, base_id: str, notification_url: str | None,
               specification: dict[str, Any]) -> Webhook:
        hooks = self.active(base_id)
        if len(hooks) >= MAX_WEBHOOKS_PER_BASE:
            raise invalid("TOO_MANY_WEBHOOKS", "a base has at most 10 webhooks")
        hook = Webhook(id=new_id("ach"), base_id=base_id, notification_url=notification_url,
                       specification=validate_specification(specification),
                       mac_secret=secrets.token_bytes(32),
                       expiration_s=self.clock.now_s() + LIFETIME_S)
        hooks[hook.id] = hook
        return hook

    def refresh(self, base_id: str, webhook_id: str) -> Webhook:
        hook = self.get(base_id, webhook_id)
        hook.expiration_s = self.clock.now_s() + LIFETIME_S
        return hook

    def delete(self, base_id: str, webhook_id: str) -> None:
        self.get(base_id, webhook_id)
        del self.by_base[base_id][webhook_id]

    def record(self, transaction: Transaction, *, split: int = 1) -> list[Webhook]:
        """Append the transaction's payloads to each webhook it concerns; those to ping."""
        touched = []
        for hook in self.active(transaction.base_id).values():
            payloads = self._payloads_for(hook, transaction, split=split)
            hook.payloads += payloads
            if payloads:
                touched.append(hook)
        return touched

    def _payloads_for(self, hook: Webhook, transaction: Transaction, *,
                      split: int) -> list[dict[str, Any]]:
        filters = hook.filters()
        if "tableData" not in filters.get("dataTypes", []):
            return []
        scope = filters.get("recordChangeScope")
        tables = {tid: ch for tid, ch in transaction.tables.items()
                  if ch and (scope is None or scope == tid)}
        parts: list[dict[str, dict[str, Any]]] = []
        for tid, change in tables.items():
            for index, piece in enumerate(split_change(change, split)):
                if index >= len(parts):
                    parts.append({})
                parts[index][tid] = table_payload(piece, with_previous=hook.wants_previous())
        return [self._envelope(transaction, changed) for changed in parts]

    @staticmethod
    def _envelope(transaction: Transaction, changed: dict[str, Any]) -> dict[str, Any]:
        return {"timestamp": iso(transaction.timestamp_s),
                "baseTransactionNumber": transaction.number,
                "actionMetadata": transaction.action, "payloadFormat": "v0",
                "changedTablesById": changed}

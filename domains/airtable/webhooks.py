"""Webhook lifecycle: create (storing the MAC secret for the verifier), list, refresh, delete.

`WebhookStore` is a Redis hash (webhook id -> JSON) written here and read by the
ingress verifier (`WebhookSecrets`). `Webhooks.refresh_all` is the scheduler's
job: it extends every stored webhook well before Airtable's 7-day expiry; one
that answers 404 (expired or deleted) is dropped from the store, logged and
counted (``webhooks_gone`` in the stats hash, the detail in the problems hash).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import orjson
import redis
import structlog

from domains.airtable.errors import Gone
from domains.airtable.keys import cursor_key, lifecycle_key, stats_key, webhooks_key
from domains.airtable.sync import LeaseBusy
from domains.airtable.transport import ApiFactory, call

log = structlog.get_logger(__name__)

SECRET_CACHE_S = 5.0


def specification(table_id: str | None) -> dict[str, Any]:
    """Record changes (of one table, or the whole base) with their previous values."""
    filters: dict[str, Any] = {"dataTypes": ["tableData"]}
    if table_id:
        filters["recordChangeScope"] = table_id
    return {"options": {"filters": filters,
                        "includes": {"includePreviousCellValues": True}}}


@dataclass(frozen=True)
class StoredWebhook:
    id: str
    base: str
    table: str | None
    notification_url: str
    expiration_time: str
    mac_secret_base64: str

    def public(self) -> dict[str, Any]:
        """Everything but the secret (for listings and logs)."""
        return {k: v for k, v in asdict(self).items() if k != "mac_secret_base64"}


class WebhookStore:
    def __init__(self, client: redis.Redis, *, namespace: str) -> None:
        self._client = client
        self._ns = namespace

    def put(self, hook: StoredWebhook) -> None:
        self._client.hset(webhooks_key(self._ns), hook.id, orjson.dumps(asdict(hook)))

    def get(self, webhook_id: str) -> StoredWebhook | None:
        raw = self._client.hget(webhooks_key(self._ns), webhook_id)
        return StoredWebhook(**orjson.loads(raw)) if raw else None

    def all(self) -> list[StoredWebhook]:
        raw: dict[bytes, bytes] = self._client.hgetall(webhooks_key(self._ns))  # type: ignore[assignment]
        return [StoredWebhook(**orjson.loads(value)) for value in raw.values()]

    def remove(self, webhook_id: str) -> None:
        self._client.hdel(webhooks_key(self._ns), webhook_id)


class WebhookSecrets:
    """The ingress side: a webhook's MAC secret from the store, cached for a few seconds."""

    def __init__(self, store: WebhookStore, *, cache_s: float = SECRET_CACHE_S) -> None:
        self._store = store
        self._cache_s = cache_s
        self._cache: dict[str, tuple[float, str]] = {}

    def secret_for(self, webhook_id: str) -> str | None:
        hit = self._cache.get(webhook_id)
        if hit is not None and time.monotonic() - hit[0] < self._cache_s:
            return hit[1]
        hook = self._store.get(webhook_id)
        if hook is None:
            self._cache.pop(webhook_id, None)
            return None
        self._cache[webhook_id] = (time.monotonic(), hook.mac_secret_base64)
        return hook.mac_secret_base64


class Webhooks:
    def __init__(self, client: redis.Redis, api: ApiFactory, *, namespace: str) -> None:
        self._client = client
        self._api = api
        self._ns = namespace
        self.store = WebhookStore(client, namespace=namespace)

    def create(self, base: str, notification_url: str, *,
               table: str | None = None, reuse: bool = True) -> StoredWebhook:
        """A webhook pinging *notification_url* about *base* (or one *table* of it).

        With *reuse*, a stored webhook with the same base, scope and URL that
        Airtable still lists is returned instead of a second one: two webhooks on
        one table would publish each change twice (their event ids differ)."""
        if reuse:
            existing = self._reusable(base, notification_url, table)
            if existing is not None:
                log.info("airtable.webhook_reused", **existing.public())
                return existing
        answer = call(self._api(), "POST", f"bases/{base}/webhooks", json={
            "notificationUrl": notification_url, "specification": specification(table)})
        hook = StoredWebhook(id=answer["id"], base=base, table=table,
                             notification_url=notification_url,
                             expiration_time=str(answer.get("expirationTime") or ""),
                             mac_secret_base64=answer["macSecretBase64"])
        self.store.put(hook)
        self._client.set(cursor_key(self._ns, hook.id), 1, nx=True)
        log.info("airtable.webhook_created", **hook.public())
        return hook

    def _reusable(self, base: str, notification_url: str, table: str | None
                  ) -> StoredWebhook | None:
        wanted = (base, table, notification_url)
        same = {hook.id: hook for hook in self.store.all()
                if (hook.base, hook.table, hook.notification_url) == wanted}
        if not same:
            return None
        hooks = call(self._api(), "GET", f"bases/{base}/webhooks").get("webhooks", [])
        listed = {hook["id"] for hook in hooks}
        for hook_id in same.keys() - listed:  # expired or deleted without our knowing
            self.report_gone(base, hook_id, "no longer listed by Airtable")
        alive = sorted(hook["id"] for hook in hooks if hook["id"] in same and _pinging(hook))
        return same[alive[0]] if alive else None

    def listing(self, base: str) -> list[dict[str, Any]]:
        """Airtable's list of the base's webhooks, each marked ``stored`` if we hold its secret."""
        stored = {hook.id for hook in self.store.all()}
        answer = call(self._api(), "GET", f"bases/{base}/webhooks")
        return [{**hook, "stored": hook["id"] in stored} for hook in answer.get("webhooks", [])]

    def refresh(self, base: str, webhook_id: str) -> str:
        """Extend the webhook's life by 7 days; its new expiration time."""
        try:
            answer = call(self._api(), "POST", f"bases/{base}/webhooks/{webhook_id}/refresh")
        except Gone:
            self.report_gone(base, webhook_id, "refresh answered 404: expired or deleted")
            raise
        expiration = str(answer.get("expirationTime") or "")
        hook = self.store.get(webhook_id)
        if hook is not None:
            self.store.put(StoredWebhook(**{**asdict(hook), "expiration_time": expiration}))
        return expiration

    def delete(self, base: str, webhook_id: str) -> None:
        try:
            call(self._api(), "DELETE", f"bases/{base}/webhooks/{webhook_id}")
        except Gone:
            log.info("airtable.webhook_already_gone", base=base, webhook=webhook_id)
        self.store.remove(webhook_id)
        self._client.hincrby(stats_key(self._ns), "webhooks_deleted", 1)
        log.info("airtable.webhook_deleted", base=base, webhook=webhook_id)

    def refresh_all(self) -> dict[str, str]:
        """The scheduler's job: refresh every stored webhook; webhook id -> outcome."""
        outcomes = {}
        for hook in self.store.all():
            try:
                outcomes[hook.id] = self.refresh(hook.base, hook.id)
            except Gone:
                outcomes[hook.id] = "gone"
        self._client.hincrby(stats_key(self._ns), "webhooks_refreshed",
                             sum(1 for v in outcomes.values() if v != "gone"))
        return outcomes

    def report_gone(self, base: str, webhook_id: str, reason: str) -> None:
        self.store.remove(webhook_id)
        problem = {"base": base, "webhook": webhook_id, "reason": reason,
                   "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        self._client.hset(lifecycle_key(self._ns), webhook_id, orjson.dumps(problem))
        self._client.hincrby(stats_key(self._ns), "webhooks_gone", 1)
        log.warning("airtable.webhook_gone", **problem)

    def problems(self) -> list[dict[str, Any]]:
        raw: dict[bytes, bytes] = self._client.hgetall(lifecycle_key(self._ns))  # type: ignore[assignment]
        return [orjson.loads(value) for value in raw.values()]

    def stats(self) -> dict[str, int]:
        raw: dict[bytes, bytes] = self._client.hgetall(stats_key(self._ns))  # type: ignore[assignment]
        return {k.decode(): int(v) for k, v in raw.items()}


def _pinging(hook: dict[str, Any]) -> bool:
    """Whether a listed webhook still sends pings (a disabled one is not worth reusing)."""
    return hook.get("isHookEnabled", True) is not False and \
        hook.get("areNotificationsEnabled", True) is not False


class PingTarget(Protocol):
    def on_ping(self, base: str, webhook: str) -> Any: ...


def poll_webhooks(sync: PingTarget, hooks: Webhooks) -> dict[str, str]:
    """Run the sync of every stored webhook as if pinged (a lost ping's changes still arrive);
    webhook id -> "ok", "busy" (another worker has it) or "gone" (reported)."""
    outcomes: dict[str, str] = {}
    for hook in hooks.store.all():
        try:
            sync.on_ping(hook.base, hook.id)
            outcomes[hook.id] = "ok"
        except Gone:
            hooks.report_gone(hook.base, hook.id, "payloads answered 404 on a poll")
            outcomes[hook.id] = "gone"
        except LeaseBusy:
            outcomes[hook.id] = "busy"
    return outcomes

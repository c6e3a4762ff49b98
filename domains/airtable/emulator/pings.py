"""Notification pings: ``{"base": {"id"}, "webhook": {"id"}, "timestamp"}`` POSTed to the
webhook's notificationUrl, signed ``X-Airtable-Content-MAC: hmac-sha256=<hex>`` with the
webhook's MAC secret (base64-decoded), retried a few times on failure as Airtable does.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from domains.airtable.emulator.clock import Clock, iso
from domains.airtable.emulator.webhooks import Webhook

RETRY_DELAYS_S = (0.2, 1.0, 3.0)
HISTORY = 10_000


def ping_body(hook: Webhook, timestamp_s: float) -> bytes:
    return orjson.dumps({"base": {"id": hook.base_id}, "webhook": {"id": hook.id},
                         "timestamp": iso(timestamp_s)})


def ping_headers(hook: Webhook, body: bytes) -> dict[str, str]:
    digest = hmac.new(hook.mac_secret, body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Airtable-Content-MAC": f"hmac-sha256={digest}"}


@dataclass
class Pinger:
    clock: Clock
    timeout_s: float = 5.0
    sent: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _client: httpx.AsyncClient | None = None

    def notify(self, hook: Webhook) -> None:
        """Schedule a ping for ``hook`` (no-op without a URL or with notifications off)."""
        if not hook.notification_url or not hook.notifications_enabled:
            return
        task = asyncio.get_running_loop().create_task(self.deliver(hook))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, hook: Webhook) -> None:
        body = ping_body(hook, self.clock.now_s())
        headers = ping_headers(hook, body)
        for retry, delay_s in enumerate((0.0, *RETRY_DELAYS_S)):
            await asyncio.sleep(delay_s)
            ok = await self._post(hook, body, headers, retry=retry)
            if ok:
                return

    async def _post(self, hook: Webhook, body: bytes, headers: dict[str, str], *,
                    retry: int) -> bool:
        started = time.monotonic()
        sent_at_ms = time.time() * 1000
        try:
            response = await self._http().post(str(hook.notification_url), content=body,
                                                headers=headers)
            status, error = response.status_code, None
        except httpx.HTTPError as exc:
            status, error = 0, str(exc) or type(exc).__name__
        ok = 200 <= status < 300
        self._remember(hook, body, headers, status=status, sent_at_ms=sent_at_ms,
                       duration_ms=(time.monotonic() - started) * 1000)
        hook.last_result = {"success": ok, "completionTimestamp": iso(self.clock.now_s()),
                            "durationMs": (time.monotonic() - started) * 1000,
                            "retryNumber": retry, "willBeRetried": not ok and retry < 3}
        if error or not ok:
            hook.last_result["error"] = {"message": error or f"HTTP {status}"}
        if ok:
            hook.last_success_s = self.clock.now_s()
        return ok

    def _remember(self, hook: Webhook, body: bytes, headers: dict[str, str], *,
                  status: int, sent_at_ms: float, duration_ms: float) -> None:
        history = self.sent.setdefault(hook.id, [])
        history.append({"body": body.decode(), "headers": headers, "status": status,
                        "sent_at_ms": sent_at_ms, "duration_ms": duration_ms})
        del history[:-HISTORY]

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s)
        return self._client

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._client is not None:
            await self._client.aclose()

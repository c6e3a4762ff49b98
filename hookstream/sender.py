"""Sending correctly signed webhooks: `hookstream send` and the demo data source."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

import httpx
import orjson

from api.verifiers import airtable, generic, github, plain, standard, stripe
from common.errors import ConfigError
from common.settings import Settings, SourceSettings
from hookstream import plain_demo
from hookstream.demo_trigger import serve_trigger


def _source_config(settings: Settings, source: str) -> SourceSettings:
    config = settings.sources.get(source)
    if config is None and not settings.sources:
        raise ConfigError("no sources configured: set HOOKSTREAM_CONFIG to your config file "
                          "(or run this where `hookstream dev` wrote .hookstream/dev.toml)")
    if config is None:
        known = ", ".join(sorted(settings.sources))
        raise ConfigError(f"unknown source {source!r} (configured: {known})")
    return config


def _with_plain_metadata(body: bytes) -> bytes:
    """Plain signs its delivery time inside the body: add it when the body has none."""
    document = orjson.loads(body)
    if isinstance(document, dict) and "webhookMetadata" not in document:
        now = datetime.now(UTC).isoformat()
        document["webhookMetadata"] = {"webhookDeliveryAttemptTimestamp": now}
        return orjson.dumps(document)
    return body


def signed_delivery(settings: Settings, source: str,
                    body: bytes) -> tuple[bytes, dict[str, str]]:
    """The body and headers a sender of the source's kind would send."""
    config = _source_config(settings, source)
    secret = config.secrets[0].get_secret_value()
    delivery_id, now = f"msg_{uuid.uuid4().hex}", int(time.time())
    if config.kind == "plain":
        body = _with_plain_metadata(body)
    headers = _SIGNERS[config.kind](secret, body, delivery_id, now, config)
    return body, {**headers, "content-type": "application/json"}


def _hmac_headers(secret: str, body: bytes, delivery_id: str, now: int,
                  config: SourceSettings) -> dict[str, str]:
    scheme = generic.HmacScheme.from_settings(config)
    headers = generic.sign(secret, scheme, body, timestamp=now)
    if scheme.id_header:
        headers[scheme.id_header] = delivery_id
    return headers


Signer = Callable[[str, bytes, str, int, SourceSettings], dict[str, str]]
_SIGNERS: dict[str, Signer] = {
    "standard-webhooks": lambda s, b, i, t, c: standard.sign(s, i, t, b),
    "github": lambda s, b, i, t, c: github.sign(s, b, delivery_id=i),
    "stripe": lambda s, b, i, t, c: stripe.sign(s, b, timestamp=t),
    "plain": lambda s, b, i, t, c: plain.sign(s, b),
    "airtable": lambda s, b, i, t, c: airtable.sign(s, b),
    "hmac": _hmac_headers,
}


def send_webhook(settings: Settings, base_url: str, source: str, body: bytes,
                 *, timeout_s: float = 10.0) -> httpx.Response:
    body, headers = signed_delivery(settings, source, body)
    return httpx.post(f"{base_url.rstrip('/')}/webhooks/{source}", content=body,
                      headers=headers, timeout=timeout_s)


class DemoSource(threading.Thread):
    """Sends a signed ``demo.tick`` webhook every *interval_s* through the whole pipeline.

    It also sends one when the demo page's button asks (`hookstream.demo_trigger`,
    on *trigger_port*, default the ingress port + 2; None: no button). With
    *plain_source*, every tick also sends the next message of a Plain support
    thread (`hookstream.plain_demo`) to that source.
    """

    def __init__(self, settings: Settings, base_url: str, source: str, *,
                 interval_s: float = 3.0,
                 trigger_port: int | Literal["auto"] | None = "auto",
                 plain_source: str | None = None) -> None:
        super().__init__(daemon=True, name="demo-source")
        self._settings, self._base_url, self._source = settings, base_url, source
        self._plain_source = plain_source
        self._plain_steps = itertools.count()
        self._interval_s = interval_s
        if trigger_port == "auto":
            trigger_port = (httpx.URL(base_url).port or 80) + 2
        self._trigger_port = trigger_port
        self._ticks = itertools.count(1)
        self.stopped = threading.Event()

    def send_one(self) -> int:
        body = orjson.dumps({"type": "demo.tick", "tick": next(self._ticks),
                             "sent_at_ms": int(time.time() * 1000)})
        return send_webhook(self._settings, self._base_url, self._source, body).status_code

    def send_plain(self) -> int | None:
        """The next Plain thread message (None without a Plain source)."""
        if self._plain_source is None:
            return None
        body = plain_demo.chat_message(next(self._plain_steps))
        return send_webhook(self._settings, self._base_url, self._plain_source,
                            body).status_code

    def run(self) -> None:
        if self._trigger_port is not None:
            with contextlib.suppress(OSError):  # port taken: the page's button says so
                serve_trigger(self.send_one, port=self._trigger_port)
        while not self.stopped.wait(self._interval_s):
            with contextlib.suppress(httpx.HTTPError):
                self.send_one()
            with contextlib.suppress(httpx.HTTPError):
                self.send_plain()

"""Sending correctly signed webhooks: `hookstream send` and the demo data source."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import orjson

from api.verifiers.standard import sign
from common.errors import ConfigError
from common.settings import Settings


def signed_headers(settings: Settings, source: str, body: bytes) -> dict[str, str]:
    config = settings.sources.get(source)
    if config is None and not settings.sources:
        raise ConfigError("no sources configured: set HOOKSTREAM_CONFIG to your config file "
                          "(or run this where `hookstream dev` wrote .hookstream/dev.toml)")
    if config is None:
        known = ", ".join(sorted(settings.sources))
        raise ConfigError(f"unknown source {source!r} (configured: {known})")
    if config.kind != "standard-webhooks":
        raise ConfigError(f"sources.{source}.kind: signing {config.kind!r} is not supported yet")
    secret = config.secrets[0].get_secret_value()
    headers = sign(secret, f"msg_{uuid.uuid4().hex}", int(time.time()), body)
    return {**headers, "content-type": "application/json"}


def send_webhook(settings: Settings, base_url: str, source: str, body: bytes,
                 *, timeout_s: float = 10.0) -> httpx.Response:
    headers = signed_headers(settings, source, body)
    return httpx.post(f"{base_url.rstrip('/')}/webhooks/{source}", content=body,
                      headers=headers, timeout=timeout_s)


class DemoSource(threading.Thread):
    """Sends a signed ``demo.tick`` webhook every *interval_s* through the whole pipeline."""

    def __init__(self, settings: Settings, base_url: str, source: str, *,
                 interval_s: float = 3.0) -> None:
        super().__init__(daemon=True, name="demo-source")
        self._settings, self._base_url, self._source = settings, base_url, source
        self._interval_s = interval_s
        self.stopped = threading.Event()

    def run(self) -> None:
        tick = 0
        while not self.stopped.wait(self._interval_s):
            tick += 1
            body = orjson.dumps({"type": "demo.tick", "tick": tick,
                                 "sent_at_ms": int(time.time() * 1000)})
            try:
                send_webhook(self._settings, self._base_url, self._source, body)
            except httpx.HTTPError:
                continue

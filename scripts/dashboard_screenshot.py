"""Take docs/dashboard.png: every real process under a small load, then the page in Chromium.

    .venv/bin/python scripts/dashboard_screenshot.py [docs/dashboard.png]

Starts an embedded Valkey, the ingress, a worker, the scheduler and two
streamers with the dashboard on; opens SSE clients (some with tokens, one that
never reads, so it is cut as a slow consumer); sends signed webhooks to two
sources (with a few bad signatures and duplicates). The Airtable, cache and SQL
panels are fed by a process reporting sample figures through `common.telemetry`
(role ``sample``), as those domains will once they report. Needs
/usr/bin/chromium and playwright (never `playwright install`).
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import secrets
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import jwt
import orjson
import redis

from api.verifiers.standard import new_secret
from common.events import Event
from common.publishing import EventLog
from common.settings import EventLogSettings, Settings
from common.telemetry import Telemetry, ThreadReporter
from common.telemetry import figures as names
from hookstream import processes
from hookstream.embedded import EmbeddedRedis, free_port
from hookstream.sender import send_webhook
from hookstream.supervisor import Supervisor, wait_http_ok

ADMIN_TOKEN = secrets.token_hex(16)
JWT_SECRET = secrets.token_hex(24)
SECRETS = {"demo": new_secret(), "shop": new_secret()}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
CONFIG = f"""
log_format = "json"
[events]
max_len = 2000
[streamer]
public_topics = ["webhooks/#", "public/#"]
jwt_secret = "{JWT_SECRET}"
heartbeat_s = 5
buffer_events = 20
buffer_bytes = 16384
[dashboard]
admin_token = "{ADMIN_TOKEN}"
report_interval_s = 1.0
[sources.demo]
kind = "standard-webhooks"
secrets = ["{SECRETS['demo']}"]
[sources.shop]
kind = "standard-webhooks"
secrets = ["{SECRETS['shop']}"]
topic = "webhooks/shop/{{type}}"
"""


def token(sub: str, topics: list[str]) -> str:
    return jwt.encode({"sub": sub, "topics": topics, "exp": int(time.time()) + 3600},
                      JWT_SECRET, algorithm="HS256")


def reader(url: str, topic: str, stop: threading.Event, *, sub: str | None = None) -> None:
    headers = {"Authorization": f"Bearer {token(sub, [topic])}"} if sub else {}
    timeout = httpx.Timeout(5.0, read=None)
    with contextlib.suppress(httpx.HTTPError), httpx.Client(timeout=timeout) as client, \
            client.stream("GET", f"{url}/events", params={"topic": topic},
                          headers=headers) as response:
        for _ in response.iter_raw():
            if stop.is_set():
                return


def stalled_client(port: int) -> socket.socket:
    """A stream that never reads: the streamer cuts it once its buffer is full."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"GET /events?topic=public/bulk HTTP/1.1\r\nHost: x\r\n\r\n")
    return sock


def sender(settings: Settings, url: str, stop: threading.Event) -> None:
    tick = 0
    while not stop.wait(0.05 + random.random() * 0.1):
        tick += 1
        source = "demo" if tick % 3 else "shop"
        body = orjson.dumps({"type": random.choice(["order.paid", "order.created"]),
                             "tick": tick})
        if tick % 17 == 0:
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(f"{url}/webhooks/{source}", content=body, timeout=5,
                           headers={"webhook-id": f"bad{tick}", "content-type": "application/json",
                                    "webhook-timestamp": str(int(time.time())),
                                    "webhook-signature": "v1,AAAA"})
            continue
        with contextlib.suppress(httpx.HTTPError):
            send_webhook(settings, url, source, body)


def bulk(redis_url: str, stop: threading.Event) -> None:
    log = EventLog(redis.Redis.from_url(redis_url), EventLogSettings())
    number = 0
    while not stop.wait(0.02):
        number += 1
        log.publish(Event(topic="public/bulk", type="bulk", data={"pad": "x" * 20_000, "n": number},
                          source="screenshot"))


def sample_domains(redis_url: str, stop: threading.Event) -> None:
    """Sample figures for the panels of domains not merged yet, through the reporter API."""
    telemetry = Telemetry("sample")
    reporter = ThreadReporter(telemetry, redis.Redis.from_url(redis_url), "hookstream",
                              interval_s=1.0).start()
    started = time.monotonic()
    while not stop.wait(0.2):
        wave = math.sin((time.monotonic() - started) / 6)
        telemetry.count(names.CACHE_HITS, random.randint(6, 12), {"cache": "airtable:tbl_trips"})
        telemetry.count(names.CACHE_MISSES, random.randint(0, 2), {"cache": "airtable:tbl_trips"})
        telemetry.count(names.AIRTABLE_REQUESTS, random.randint(0, 2), {"outcome": "ok"})
        telemetry.gauge(names.AIRTABLE_BUDGET_USED, 0.55 + 0.3 * wave, {"scope": "base:appDemo"},
                        merge="max")
        telemetry.gauge(names.AIRTABLE_BUDGET_USED, 0.12 + 0.05 * wave, {"scope": "token"},
                        merge="max")
        telemetry.gauge(names.SQL_WATCH_LAG, 0.04 + 0.03 * random.random(), {"watch": "trips"},
                        merge="max")
        telemetry.gauge(names.SQL_WATCH_LAG, 0.9 + 0.6 * wave, {"watch": "seats"}, merge="max")
    reporter.stop()


def main(target: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="hookstream-shot-"))
    valkey = EmbeddedRedis(work / "valkey", durable=False).start()
    config = work / "hookstream.toml"
    config.write_text(CONFIG)
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKSTREAM_")}
    env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=valkey.url)
    settings = Settings.model_validate({"redis_url": valkey.url, **_sources()})
    ports = processes.Ports(ingress=free_port(), streamer=free_port())
    second = free_port()
    supervisor = Supervisor(env, log_dir=str(work), restart=False)
    for name, argv in processes.all_processes(ports).items():
        supervisor.start(name, argv)
    supervisor.start("streamer2", processes.streamer(second))
    ingress, streamers = f"http://127.0.0.1:{ports.ingress}", [
        f"http://127.0.0.1:{ports.streamer}", f"http://127.0.0.1:{second}"]
    stop = threading.Event()
    try:
        wait_http_ok(f"{ingress}/readyz")
        for url in streamers:
            wait_http_ok(f"{url}/readyz")
        jobs = [(reader, (streamers[n % 2], topic, stop), {"sub": sub}) for n, (topic, sub) in
                enumerate([("webhooks/#", None), ("webhooks/#", "ops-console"),
                           ("webhooks/demo", "alice"), ("webhooks/demo", "alice"),
                           ("webhooks/shop/#", "bob"), ("webhooks/shop/#", None),
                           ("webhooks/shop/order.paid", "carol"), ("public/#", None),
                           ("webhooks/demo", None), ("webhooks/#", "ops-console")])]
        jobs += [(sender, (settings, ingress, stop), {}), (bulk, (valkey.url, stop), {}),
                 (sample_domains, (valkey.url, stop), {})]
        for target_fn, args, kwargs in jobs:
            threading.Thread(target=target_fn, args=args, kwargs=kwargs, daemon=True).start()
        stalled = [stalled_client(ports.streamer) for _ in range(3)]
        _screenshot(streamers[0], target)
        for sock in stalled:
            sock.close()
    finally:
        stop.set()
        supervisor.stop()
        valkey.stop()


def _sources() -> dict[str, object]:
    return {"sources": {name: {"kind": "standard-webhooks", "secrets": [secret]}
                        for name, secret in SECRETS.items()}}


def _screenshot(url: str, target: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(f"{url}/dashboard")
        page.fill("#token", ADMIN_TOKEN)
        page.click("#login button[type=submit]")
        page.wait_for_selector("#status.open", timeout=30_000)
        time.sleep(float(os.environ.get("SHOT_WAIT_S", "65")))
        page.screenshot(path=str(target), full_page=True)
        browser.close()
    print(f"wrote {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/dashboard.png"))

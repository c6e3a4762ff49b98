"""Take docs/dashboard.png: every real process under a small load, then the page in Chromium.

    .venv/bin/python scripts/dashboard_screenshot.py [docs/dashboard.png]

Starts an embedded Valkey, the ingress, a worker, the scheduler and two
streamers with the dashboard on; opens SSE clients (some with tokens, one that
never reads, so it is cut as a slow consumer); sends signed webhooks to two
sources (with a few bad signatures and duplicates); sells seats on the SQLite
demo watch (the scheduler's reader publishes them and reports the lag); and
drives the Airtable domain's request budget and read cache in Redis (no
Airtable reached), whose counters the ingress reports. Needs /usr/bin/chromium
and playwright (never `playwright install`).
"""

from __future__ import annotations

import contextlib
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
from common.settings import AirtableSettings, EventLogSettings, Settings
from domains.airtable.budget import RequestBudget
from domains.airtable.cache import ReadCache
from domains.sqlwatch import demo
from hookstream import processes
from hookstream.embedded import EmbeddedRedis, free_port
from hookstream.sender import send_webhook
from hookstream.supervisor import Supervisor, wait_http_ok

ADMIN_TOKEN = secrets.token_hex(16)
JWT_SECRET = secrets.token_hex(24)
SECRETS = {"demo": new_secret(), "shop": new_secret()}
AIRTABLE_TOKEN = "shot-" + secrets.token_hex(8)
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
[airtable]
token = "{AIRTABLE_TOKEN}"
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


def airtable_load(redis_url: str, stop: threading.Event) -> None:
    """The Airtable domain's budget and cache at work, as reads through the cache would."""
    client = redis.Redis.from_url(redis_url)
    budget = RequestBudget(client, namespace="hookstream", token=AIRTABLE_TOKEN,
                           base_rate_per_s=5, token_rate_per_s=50)
    cache = ReadCache(client, AirtableSettings(), namespace="hookstream")
    tick = 0
    while not stop.wait(0.1):
        tick += 1
        base = "appDemo" if tick % 4 else "appShop"
        digest = f"q{random.randint(0, 11)}"
        if cache.get(base, "tblTrips", 0, digest) is None:
            with contextlib.suppress(Exception):
                budget.acquire(base, max_wait_s=2)
            cache.put(base, "tblTrips", 0, digest, b"[]", ttl_s=random.randint(2, 8))


def sql_load(db_url: str, stop: threading.Event) -> None:
    """Sell a seat now and then on the demo watch's trips (the scheduler's reader publishes)."""
    while not stop.wait(0.8 + random.random()):
        with contextlib.suppress(demo.SoldOut):
            demo.sell(db_url, random.randint(1, 4))


def main(target: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="hookstream-shot-"))
    valkey = EmbeddedRedis(work / "valkey", durable=False).start()
    config = work / "hookstream.toml"
    config.write_text(CONFIG + demo.demo_watch_toml(work / "demo.db"))
    watch = Settings.model_validate({"redis_url": valkey.url, "watches": {
        demo.WATCH: {"url": f"sqlite:///{work / 'demo.db'}", "table": "trips", "key": ["id"],
                     "topic": "demo/trips/company/{company_id}"}}}).watches[demo.WATCH]
    demo.prepare(watch)
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
                 (airtable_load, (valkey.url, stop), {}),
                 (sql_load, (watch.url.get_secret_value(), stop), {})]
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

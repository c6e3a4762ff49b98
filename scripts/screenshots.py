"""Screenshots of the demo page for docs/: the whole system, a demo source, real Chromium.

    .venv/bin/python scripts/screenshots.py

Starts an embedded Valkey, ingress, worker, scheduler and streamer (every demo
topic public), the signed demo source with its send button, then publishes a
few Airtable, SQL-trips and Plain-shaped events (the shapes those domains
document) and photographs the page: docs/demo.png, then the badge while the
streamer is down (docs/demo-reconnecting.png); scripts/dashboard_screenshot.py
takes the dashboard's.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from api.verifiers.standard import new_secret
from common.events import Event
from common.publishing import EventLog
from common.settings import EventLogSettings, load_settings
from hookstream import processes
from hookstream.embedded import EmbeddedRedis, free_port
from hookstream.sender import DemoSource
from hookstream.supervisor import Supervisor, wait_http_ok

DOCS = Path(__file__).resolve().parent.parent / "docs"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
CONFIG = """
log_level = "warning"
[streamer]
public_topics = ["webhooks/#", "demo/#", "airtable/#", "trips/#", "plain/#"]
heartbeat_s = 2
[ingress]
publish_keys = ["screenshot-key"]
[sources.demo]
kind = "standard-webhooks"
secrets = ["{secret}"]
topic = "webhooks/{{source}}"
"""


def sample_events() -> Iterator[Event]:
    """Built one at a time, so each event's time is its publish time."""
    base = {"base": "appDemo", "table": "tblTasks"}
    for rec, who, status in (("rec1", "Ada", "todo"), ("rec2", "Grace", "doing"),
                             ("rec3", "Linus", "todo")):
        yield Event(topic=f"airtable/appDemo/tblTasks/{rec}", type="record.created",
                    source="airtable",
                    data={**base, "record": rec, "fields": {"Owner": who, "Status": status}})
    yield Event(topic="airtable/appDemo/tblTasks/rec1", type="record.updated", source="airtable",
                data={**base, "record": "rec1", "fields": {"Status": "done"}})
    for key, route, seats in ((42, "Oslo → Bergen", 12), (43, "Lyon → Turin", 4)):
        yield Event(topic=f"trips/company/7/trip/{key}", type="row.added", source="sql",
                    data={"watch": "trips", "key": key,
                          "row": {"route": route, "seats_left": seats}})
    yield Event(topic="trips/company/7/trip/42", type="row.changed", source="sql",
                data={"watch": "trips", "key": 42, "fields": {"seats_left": 11}})
    for text in ("Hi, where is my order #1042?", "It shipped this morning: tracking sent."):
        yield Event(topic="plain/thread/th_01J9", type="thread.chat_sent", source="plain",
                    data={"payload": {"message": {"text": text}}})


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        valkey = EmbeddedRedis(Path(tmp) / "valkey", durable=False).start()
        config = Path(tmp) / "hookstream.toml"
        config.write_text(CONFIG.format(secret=new_secret()))
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKSTREAM_")}
        env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=valkey.url)
        ports = processes.Ports(ingress=free_port(), streamer=free_port())
        supervisor = Supervisor(env, log_dir=tmp, restart=False)
        try:
            for name, argv in processes.all_processes(ports).items():
                supervisor.start(name, argv)
            ingress, streamer = (f"http://127.0.0.1:{port}"
                                 for port in (ports.ingress, ports.streamer))
            wait_http_ok(f"{ingress}/readyz")
            wait_http_ok(f"{streamer}/readyz")
            trigger_port = free_port()
            DemoSource(load_settings(env), ingress, "demo", interval_s=2,
                       trigger_port=trigger_port).start()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                     args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1360, "height": 860})
                page.goto(f"{streamer}/?sender=http://127.0.0.1:{trigger_port}")
                page.wait_for_function("document.getElementById('badge').textContent === 'open'")
                log = EventLog(redis.Redis.from_url(valkey.url), EventLogSettings())
                for event in sample_events():
                    log.publish(event)
                    time.sleep(0.15)
                page.click("#send")
                page.wait_for_function("+document.getElementById('demo-count').textContent >= 3",
                                       timeout=30_000)
                page.screenshot(path=str(DOCS / "demo.png"))
                supervisor.signal("streamer", signal.SIGKILL)
                page.wait_for_function("document.getElementById('badge').textContent"
                                       ".startsWith('reconnecting')")
                page.screenshot(path=str(DOCS / "demo-reconnecting.png"),
                                clip={"x": 0, "y": 0, "width": 1360, "height": 60})
                browser.close()
        finally:
            supervisor.stop()
            valkey.stop()
    print(f"wrote demo.png and demo-reconnecting.png in {DOCS}")


if __name__ == "__main__":
    main()

"""The demo page (streamer `GET /`) in real Chromium: badge, live log, the source panels."""

from __future__ import annotations

import httpx
import pytest

from common.events import Event
from common.settings import load_settings
from hookstream.devconfig import DEMO_SOURCE
from hookstream.embedded import free_port
from hookstream.sender import DemoSource
from tests.browser.harness import ClientPage
from tests.integration.conftest import system  # noqa: F401  (fixture)
from tests.integration.streamer_support import publisher

pytestmark = pytest.mark.browser


def test_the_button_sends_a_signed_webhook_through_the_pipeline(system,  # noqa: F811
                                                                 client_page: ClientPage):
    settings = load_settings(system.env)
    trigger_port = free_port()
    DemoSource(settings, system.ingress_url, DEMO_SOURCE, interval_s=3600,
               trigger_port=trigger_port).start()
    page = client_page.page
    sender = f"http://127.0.0.1:{trigger_port}"
    page.goto(f"{system.streamer_url}/?topic=webhooks/%23&sender={sender}")
    page.wait_for_function("document.getElementById('badge').textContent === 'open'")
    page.click("#send")
    page.wait_for_function("document.getElementById('demo-count').textContent === '1'")
    assert page.text_content("#send-result") == "ingress answered 202"
    assert page.text_content("#airtable-badge") == "private here: no token"  # not public here
    row = page.locator("#log-rows tr").first
    assert row.locator("td").nth(1).text_content() == "webhooks/demo"
    assert row.locator("td").nth(4).text_content().endswith(" ms")  # delivery latency


def test_source_panels_update_in_place(streamer, redis_url, client_page: ClientPage):
    page = client_page.page
    page.goto(f"{streamer.url}/")
    for name in ("airtable", "trips", "plain"):
        page.wait_for_function(f"document.getElementById('{name}-badge').textContent"
                               " === 'listening'")
    log = publisher(redis_url)
    record = {"base": "app1", "table": "tbl1", "record": "rec1"}
    log.publish(Event(topic="airtable/app1/tbl1/rec1", type="record.created", source="airtable",
                      data={**record, "fields": {"Name": "Ada", "Status": "todo"}}))
    log.publish(Event(topic="airtable/app1/tbl1/rec1", type="record.updated", source="airtable",
                      data={**record, "fields": {"Status": "done"},
                            "previous": {"Status": "todo"}}))
    log.publish(Event(topic="trips/company/7/trip/42", type="row.added", source="sql",
                      data={"watch": "trips", "key": 42, "row": {"route": "Oslo-Bergen",
                                                                "seats_left": 12}}))
    log.publish(Event(topic="trips/company/7/trip/42", type="row.changed", source="sql",
                      data={"watch": "trips", "key": 42, "fields": {"seats_left": 11},
                            "previous": {"seats_left": 12}}))
    log.publish(Event(topic="plain/thread/th_1", type="thread.chat_sent", source="plain",
                      data={"payload": {"message": {"text": "Where is my order?"}}}))
    page.wait_for_function("document.querySelector('#trips td.big')?.textContent === '11'")
    page.wait_for_function("document.getElementById('threads').textContent"
                           ".includes('Where is my order?')")
    page.wait_for_function("document.querySelectorAll('#records tbody tr').length === 1"
                           " && document.querySelector('#records tbody').textContent"
                           ".includes('done')")
    assert page.locator("#records tbody td").all_text_contents() == ["rec1", "Ada", "done"]
    assert page.text_content("#trips td.mono") == "Oslo-Bergen"
    stats = httpx.get(f"{streamer.url}/stats").json()
    assert stats["connections"] == 1  # one stream for the whole page

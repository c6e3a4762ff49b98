"""The demo page (streamer `GET /`) in real Chromium: badge, live log, the source panels."""

from __future__ import annotations

import time

import httpx
import pytest

from common.events import Event
from common.settings import load_settings
from hookstream.devconfig import DEMO_SOURCE
from hookstream.embedded import free_port
from hookstream.sender import DemoSource
from tests.browser.fake_streamer import FakeStreamer, Reply
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
    page.wait_for_function(  # the event may overtake the trigger's own answer
        "document.getElementById('send-result').textContent === 'ingress answered 202'")
    assert page.text_content("#airtable-badge") == "private here: no token"  # not public here
    row = page.locator("#log-rows tr").first
    assert row.locator("td").nth(1).text_content() == "webhooks/demo"
    assert row.locator("td").nth(4).text_content().endswith(" ms")  # delivery latency


def test_source_panels_update_in_place(streamer, redis_url, client_page: ClientPage):
    with FakeStreamer([Reply(204)]).running() as fake_ingress:
        check_panels(client_page.page, streamer.url, redis_url, fake_ingress)


def check_panels(page, streamer_url: str, redis_url: str, fake_ingress: FakeStreamer) -> None:
    page.goto(f"{streamer_url}/?ingress={fake_ingress.url}")
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
    # the SQL demo's own topic (under demo/#) and its Sell button (on the ingress)
    log.publish(Event(topic="demo/trips/company/1", type="row.added", source="sql",
                      data={"watch": "demo-trips", "key": 7, "row": {
                          "id": 7, "company_id": 1, "route": "Lyon-Turin", "seats_total": 40,
                          "seats_left": 39}}))
    page.wait_for_function("[...document.querySelectorAll('#trips td.big')]"
                           ".some((td) => td.textContent === '39')")
    page.locator("#trips tr", has_text="Lyon-Turin").locator("button").click()
    deadline = time.monotonic() + 10
    while not fake_ingress.posts:
        assert time.monotonic() < deadline, "the Sell button sent nothing"
        time.sleep(0.05)
    assert fake_ingress.posts[0].path == "/sql/demo/sell?trip=7"
    stats = httpx.get(f"{streamer_url}/stats").json()
    assert stats["connections"] == 1  # one stream for the whole page


def test_the_badge_follows_a_killed_and_restarted_streamer(streamer, redis_url,
                                                           client_page: ClientPage):
    page = client_page.page
    page.goto(f"{streamer.url}/")
    badge = "document.getElementById('badge').textContent"
    page.wait_for_function(f"{badge} === 'open'")
    streamer.kill()
    page.wait_for_function(f"{badge}.startsWith('reconnecting in ')")
    streamer.start()
    page.wait_for_function(f"{badge} === 'open'", timeout=40_000)
    position = publisher(redis_url).publish(
        Event(topic="webhooks/demo", type="demo.tick", source="demo", data={"tick": 1})).position
    page.wait_for_function(f"document.getElementById('last-id').textContent === {position!r}")

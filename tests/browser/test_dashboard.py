"""The operator dashboard: its stream behind the admin token, and the page in Chromium."""

from __future__ import annotations

import time

import httpx
import orjson
import pytest

from hookstream import processes
from hookstream.embedded import free_port
from hookstream.supervisor import wait_http_ok
from tests.browser.harness import ClientPage
from tests.sse_client import SseReader

pytestmark = pytest.mark.browser
ADMIN_TOKEN = "admin-secret-for-tests"


def first_stats(url: str, **kwargs) -> dict:
    with httpx.stream("GET", f"{url}/dashboard/events", timeout=10, **kwargs) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                return orjson.loads(line[6:])
    raise AssertionError("no stats event")


def test_the_stats_stream_needs_the_admin_token(streamer):
    assert httpx.get(f"{streamer.url}/dashboard/events").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert httpx.get(f"{streamer.url}/dashboard/events", headers=wrong).status_code == 401
    stats = first_stats(streamer.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert set(stats) >= {"processes", "connections", "by_topic", "by_subject", "events_per_s",
                          "deliveries_per_s", "drops", "closes", "queues", "webhooks"}
    assert first_stats(streamer.url, params={"token": ADMIN_TOKEN})["processes"] == 1


def test_figures_are_summed_across_streamer_processes(streamer):
    second = f"http://127.0.0.1:{free_port()}"
    streamer.supervisor.start("streamer2", processes.streamer(int(second.rsplit(":", 1)[1])))
    wait_http_ok(f"{second}/readyz")
    readers = [SseReader(f"{url}/events", params={"topic": "public/x/#"}).wait_connected()
               for url in (streamer.url, second, second)]
    try:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.stream("GET", f"{streamer.url}/dashboard/events", headers=headers,
                          timeout=10) as response:
            deadline = time.monotonic() + 20
            for line in response.iter_lines():  # reports land within a second: wait for both
                if line.startswith("data: "):
                    stats = orjson.loads(line[6:])
                    if stats["processes"] == 2 and stats["connections"] == 3:
                        break
                    assert time.monotonic() < deadline, f"never summed both: {stats}"
        assert stats["by_topic"] == {"public/x/#": 3}
    finally:
        for reader in readers:
            reader.close()


def test_the_dashboard_page_updates_itself(streamer, client_page: ClientPage):
    viewer = client_page.page.context.new_page()  # a stream for the dashboard to count
    viewer.goto(f"{streamer.url}/healthz")
    viewer.evaluate("""async () => {
      const { connect } = await import("/client.js");
      connect({ topics: ["public/dashboard/#"] });
    }""")
    page = client_page.page
    page.goto(f"{streamer.url}/dashboard?token={ADMIN_TOKEN}")
    page.wait_for_function("document.getElementById('badge').textContent === 'open'")
    page.wait_for_function("document.getElementById('connections').textContent === '1'")
    assert page.text_content("#processes") == "1"
    page.wait_for_function("document.getElementById('by_topic').textContent"
                           ".includes('public/dashboard/#')")
    assert page.locator("#spark-connections polyline").count() == 1

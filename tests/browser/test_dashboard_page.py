"""The operator dashboard in real Chromium against every real process."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.dashboard_support import ADMIN_TOKEN
from tests.integration.test_pipeline import official_signed
from tests.sse_client import SseReader

pytestmark = pytest.mark.browser


def sign_in(page, url: str, token: str) -> None:
    page.goto(f"{url}/dashboard")
    page.fill("#token", token)
    page.click("#login button[type=submit]")


def test_a_wrong_token_is_refused_on_the_page(dashboard_system, chromium):
    page = chromium.new_page()
    try:
        sign_in(page, dashboard_system.streamer_url, "not-the-admin-token")
        page.wait_for_selector("#login-error:has-text('not valid')", timeout=20_000)
        assert page.is_hidden("#board")
        assert page.evaluate("sessionStorage.length") == 0
    finally:
        page.close()


def test_the_page_renders_and_updates_itself(dashboard_system, demo_secret, chromium):
    page = chromium.new_page()
    page.on("pageerror", lambda error: print(f"[page] error: {error}"))
    client = None
    try:
        sign_in(page, dashboard_system.streamer_url, ADMIN_TOKEN)
        page.wait_for_selector("#status.open", timeout=20_000)
        for role in ("ingress", "worker", "scheduler", "streamer"):
            page.wait_for_selector(f"#processes tr[data-role={role}]", timeout=20_000)
        assert "no data yet" in page.inner_text("#sql")  # nothing reports a watch here
        page.wait_for_selector("#queues tr[data-queue=deliveries]", timeout=20_000)

        client = SseReader(f"{dashboard_system.streamer_url}/events",
                           params={"topic": "webhooks/#"}).wait_connected()
        body = b'{"type":"order.paid","order":9}'
        sent = httpx.post(f"{dashboard_system.ingress_url}/webhooks/demo", content=body,
                          headers=official_signed(demo_secret, body, "msg_page_1"), timeout=5)
        assert sent.status_code == 202, sent.text
        accepted = "#webhooks tr[data-source=demo] td[data-outcome=accepted]"
        page.wait_for_function(
            f"document.querySelector({accepted!r})?.textContent === '1'", timeout=20_000)
        page.wait_for_selector("#topics td.name:has-text('webhooks/#')", timeout=20_000)
        page.wait_for_function(
            "document.querySelector('[data-stat=connections]').textContent === '1'",
            timeout=20_000)
        assert page.locator("#throughput svg.spark polyline").count() >= 1
        # the token never left the tab except as a header
        assert page.evaluate("location.href").endswith("/dashboard")
    finally:
        if client is not None:
            client.close()
        page.close()

"""The dashboard across real processes: every process reports, the stream merges them."""

import httpx
import pytest
import redis

from domains.airtable.keys import stats_key
from tests.integration.dashboard_support import ADMIN_TOKEN, ROLES, rows, value, wait_for_view
from tests.integration.test_pipeline import official_signed
from tests.sse_client import SseReader

pytestmark = pytest.mark.integration


def test_the_stream_needs_the_admin_token_and_the_page_does_not(dashboard_system):
    url = dashboard_system.streamer_url
    page = httpx.get(f"{url}/dashboard", timeout=5)
    assert page.status_code == 200 and "operator dashboard" in page.text
    assert httpx.get(f"{url}/dashboard.js", timeout=5).status_code == 200
    missing = httpx.get(f"{url}/dashboard/stream", timeout=5)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "token_required"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.get(f"{url}/dashboard/stream", timeout=5,
                      headers={"Authorization": "Bearer " + "x" * len(ADMIN_TOKEN)})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_token"


def test_the_stream_shows_every_process_a_webhook_and_a_connected_client(dashboard_system,
                                                                          demo_secret, tmp_path):
    url = dashboard_system.streamer_url
    board = SseReader(f"{url}/dashboard/stream",
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    client = None
    try:
        wait_for_view(board, lambda view: {p["role"] for p in view["processes"]} >= ROLES)
        client = SseReader(f"{url}/events", params={"topic": "webhooks/#"}).wait_connected()
        body = b'{"type":"order.paid","order":7}'
        sent = httpx.post(f"{dashboard_system.ingress_url}/webhooks/demo", content=body,
                          headers=official_signed(demo_secret, body, "msg_dash_1"), timeout=5)
        assert sent.status_code == 202, sent.text
        client.next_event(timeout_s=15)
        view = wait_for_view(board, lambda view: (
            value(view, "streamer_connections_by_topic", topic="webhooks/#") >= 1
            and value(view, "ingress_webhooks_total", source="demo", outcome="accepted") >= 1
            and value(view, "worker_messages_total", actor="process_delivery",
                      outcome="done") >= 1
            and value(view, "streamer_deliveries_total") >= 1))
        assert value(view, "streamer_connections") >= 1
        assert value(view, "streamer_connections_by_subject", subject="(anonymous)") >= 1
        assert rows(view, "queue_messages", queue="deliveries")
        assert rows(view, "dead_letters", queue="deliveries")
        assert value(view, "scheduler_leading") == 1
        with redis.Redis.from_url(dashboard_system.redis_url) as shared:
            shared.hset(stats_key("hookstream"), mapping={"cache_hits": 5, "granted:appX": 2})
        view = wait_for_view(board, lambda view: (
            value(view, "cache_hits_total", cache="airtable") == 5
            and value(view, "airtable_requests_total", outcome="granted") == 2))
    finally:
        board.close()
        if client is not None:
            client.close()
    dashboard_system.supervisor.stop()
    logs = "".join(path.read_text(errors="replace") for path in tmp_path.glob("*.log"))
    assert ADMIN_TOKEN not in logs

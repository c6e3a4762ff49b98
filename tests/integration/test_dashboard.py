"""The dashboard across real processes: every process reports, the stream merges them."""

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from hookstream import processes
from hookstream.embedded import free_port
from hookstream.supervisor import Supervisor, wait_http_ok
from tests.integration.conftest import System, _print_logs_on_failure, config_text
from tests.integration.test_pipeline import official_signed
from tests.sse_client import SseReader

pytestmark = pytest.mark.integration
ADMIN_TOKEN = "dashboard-admin-token-0123456789"
DASHBOARD_CONFIG = f"""
[dashboard]
admin_token = "{ADMIN_TOKEN}"
report_interval_s = 0.25
"""
ROLES = {"ingress", "worker", "scheduler", "streamer"}


@pytest.fixture
def dashboard_system(tmp_path: Path, redis_url: str, demo_secret: str):
    config = tmp_path / "hookstream.toml"
    config.write_text(config_text(demo_secret) + DASHBOARD_CONFIG)
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKSTREAM_")}
    env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=redis_url)
    ports = processes.Ports(ingress=free_port(), streamer=free_port())
    supervisor = Supervisor(env, log_dir=str(tmp_path), restart=False)
    for name, argv in processes.all_processes(ports).items():
        supervisor.start(name, argv)
    running = System(f"http://127.0.0.1:{ports.ingress}", f"http://127.0.0.1:{ports.streamer}",
                     redis_url, supervisor, env)
    try:
        wait_http_ok(f"{running.ingress_url}/readyz")
        wait_http_ok(f"{running.streamer_url}/readyz")
        yield running
    finally:
        supervisor.stop()
        _print_logs_on_failure(tmp_path)


def rows(view, name, **labels):
    return [row for row in view.get("figures", {}).get(name, [])
            if all(row["labels"].get(key) == value for key, value in labels.items())]


def value(view, name, **labels):
    return sum(row["value"] for row in rows(view, name, **labels))


def wait_for_view(reader, check, *, timeout_s=30.0):
    """The first `figures` view for which *check* holds (views come every 0.25 s)."""
    deadline, last = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        event = reader.next_event(timeout_s=max(deadline - time.monotonic(), 0.1))
        assert event.event == "figures"
        last = json.loads(event.data)
        if check(last):
            return last
    raise AssertionError(f"no view matched; the last was {json.dumps(last)[:3000]}")


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
    finally:
        board.close()
        if client is not None:
            client.close()
    dashboard_system.supervisor.stop()
    logs = "".join(path.read_text(errors="replace") for path in tmp_path.glob("*.log"))
    assert ADMIN_TOKEN not in logs

"""Every process type with the dashboard on: an admin token and fast reports."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from hookstream import processes
from hookstream.embedded import free_port
from hookstream.supervisor import Supervisor, wait_http_ok

ADMIN_TOKEN = "dashboard-admin-token-0123456789"
DASHBOARD_CONFIG = f"""
[dashboard]
admin_token = "{ADMIN_TOKEN}"
report_interval_s = 0.25
[airtable]
token = "dashboard-airtable-token"
api_url = "http://127.0.0.1:9"
"""
ROLES = {"ingress", "worker", "scheduler", "streamer"}


@pytest.fixture
def dashboard_system(tmp_path: Path, redis_url: str, demo_secret: str):
    from tests.integration.conftest import System, _print_logs_on_failure, config_text

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

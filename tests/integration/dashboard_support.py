"""Every process type with the dashboard on: an admin token and fast reports."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

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
    from tests.integration.conftest import config_text, run_system

    with run_system(tmp_path, redis_url, config_text(demo_secret) + DASHBOARD_CONFIG) as running:
        yield running


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

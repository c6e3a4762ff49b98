"""`hookstream airtable ...` with click's CliRunner against the emulator and a real Redis."""

from __future__ import annotations

import types

import pytest
from click.testing import CliRunner

from common.settings import Settings
from hookstream.commands.airtable import airtable
from tests.airtable_support import DEMO_BASE, DEMO_TABLE, admin


@pytest.fixture
def run(emulator, redis_url):
    settings = Settings.model_validate({"redis_url": redis_url, "airtable": {
        "api_url": emulator.url, "token": "cli-token"}})

    def invoke(*args: str):
        return CliRunner().invoke(airtable, list(args), obj=types.SimpleNamespace(
            settings=settings), catch_exceptions=False)

    return invoke


def test_webhooks_create_list_refresh_delete(run, emulator) -> None:
    created = run("webhooks", "create", DEMO_BASE, "--url", "http://127.0.0.1:9/hook",
                  "--table", DEMO_TABLE)
    assert created.exit_code == 0, created.output
    (line,) = [line for line in created.output.splitlines() if line.startswith("created ")]
    hook_id = line.split()[1]
    assert hook_id.startswith("ach") and "secret stored" in created.output
    listed = run("webhooks", "list", DEMO_BASE)
    assert hook_id in listed.output and "yes" in listed.output
    refreshed = run("webhooks", "refresh", DEMO_BASE, hook_id)
    assert refreshed.exit_code == 0 and "expires" in refreshed.output
    admin(emulator.url, "POST", f"/bases/{DEMO_BASE}/webhooks/{hook_id}/expire")
    assert "gone" in run("webhooks", "refresh", "--all").output
    assert run("webhooks", "delete", DEMO_BASE, hook_id).exit_code == 0
    assert "no webhooks" in run("webhooks", "list", DEMO_BASE).output


def test_refresh_without_arguments_is_a_usage_error(run) -> None:
    assert run("webhooks", "refresh").exit_code == 2


def test_sync_reports_the_drift(run) -> None:
    result = run("sync", DEMO_BASE, "Tasks")
    assert result.exit_code == 0, result.output
    assert "3 records; drift: 3 created, 0 updated, 0 deleted; 3 events published" in result.output
    again = run("sync", DEMO_BASE, "Tasks")
    assert "0 events published" in again.output


def test_errors_are_one_clear_line(run) -> None:
    result = run("sync", DEMO_BASE, "Nope")
    assert result.exit_code == 1 and "no table 'Nope'" in result.output

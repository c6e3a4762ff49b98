"""`hookstream airtable ...` with click's CliRunner against the emulator and a real Redis."""

from __future__ import annotations

import pytest
import redis
from click.testing import CliRunner

from common.settings import Settings
from hookstream.commands.airtable import airtable
from hookstream.commands.context import CliContext
from tests.airtable_support import DEMO_BASE, DEMO_TABLE, admin


@pytest.fixture
def run(emulator, redis_url):
    settings = Settings.model_validate({"redis_url": redis_url, "airtable": {
        "api_url": emulator.url, "token": "cli-token"}})

    def invoke(*args: str):
        return CliRunner().invoke(airtable, list(args), obj=CliContext.for_settings(settings),
                                   catch_exceptions=False)

    return invoke


def test_webhooks_create_list_refresh_delete(run, emulator) -> None:
    created = run("webhooks", "create", DEMO_BASE, "--url", "http://127.0.0.1:9/hook",
                  "--table", DEMO_TABLE)
    assert created.exit_code == 0, created.output
    (line,) = [line for line in created.output.splitlines() if line.startswith("created ")]
    hook_id = line.split()[1]
    assert hook_id.startswith("ach") and "secret stored" in created.output
    assert "airtable.slot" not in created.output  # debug lines stay out at the default level
    again = run("webhooks", "create", DEMO_BASE, "--url", "http://127.0.0.1:9/hook",
                "--table", DEMO_TABLE)
    assert f"reused {hook_id}" in again.output
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


@pytest.fixture
def paused(redis_url, run):
    """Pause the demo base in the shared budget, as a worker's 429 would."""
    from domains.airtable.services import build_budget

    def pause(seconds: float) -> None:
        settings = Settings.model_validate({"airtable": {"token": "cli-token"}})
        build_budget(redis.Redis.from_url(redis_url), settings).pause(DEMO_BASE, seconds)

    return pause


def test_sync_waits_out_a_paused_base_and_reads_again(run, paused) -> None:
    paused(1.0)
    result = run("sync", DEMO_BASE, "Tasks")
    assert result.exit_code == 0, result.output
    assert "paused after a 429; reading again in 1 s" in result.output
    assert "3 records; drift: 3 created" in result.output


def test_sync_gives_up_after_max_wait_and_webhooks_say_when_to_try_again(run, paused) -> None:
    paused(5.0)
    result = run("sync", DEMO_BASE, "Tasks", "--max-wait-s", "1")
    assert result.exit_code == 1
    assert "paused after a 429; try again in 5 s" in result.output
    listed = run("webhooks", "list", DEMO_BASE)
    assert listed.exit_code == 1 and "try again in" in listed.output

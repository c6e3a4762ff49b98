"""``hookstream sql`` through click's CliRunner with explicit settings."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from hookstream.commands.context import CliContext
from hookstream.commands.sql import sql
from tests.unit.sqlwatch.conftest import watch_settings


@pytest.fixture(params=["sqlite"])
def db_url(request, tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def invoke(make_settings, db_url, redis_url):
    settings = make_settings(redis_url=redis_url, watches={
        "trips": watch_settings(db_url).model_dump(mode="json") | {"url": db_url}})

    def run(*args: str):
        return CliRunner().invoke(sql, list(args), obj=CliContext.for_settings(settings))

    return run


def test_install_prints_then_installs_and_remove_is_idempotent(invoke, app_db):
    printed = invoke("install-triggers", "trips", "--print")
    assert "CREATE TRIGGER" in printed.output and printed.exit_code == 0
    assert invoke("install-triggers", "trips").exit_code == 0
    with app_db.begin() as connection:
        connection.execute(sa.text("INSERT INTO trips (id, company_id) VALUES (1, 7)"))
        assert connection.execute(sa.text("SELECT count(*) FROM hookstream_changes")).scalar() == 1
    assert invoke("remove-triggers", "trips").exit_code == 0
    assert invoke("remove-triggers", "trips").exit_code == 0


def test_snapshot_stores_rows_and_status_shows_them(invoke, app_db):
    with app_db.begin() as connection:
        connection.execute(sa.text("INSERT INTO trips (id, company_id) VALUES (1, 7), (2, 8)"))
    result = invoke("snapshot", "trips")
    assert result.exit_code == 0, result.output
    assert "2 rows stored" in result.output
    status = invoke("status")
    assert status.exit_code == 0, status.output
    assert "trips" in status.output and "push" in status.output


def test_an_unknown_watch_is_a_clear_error(invoke):
    result = invoke("install-triggers", "nope")
    assert result.exit_code == 1
    assert "no watch named 'nope'" in result.output

"""One reader per watch however many processes run readers; poll watches ask for one diff."""

from __future__ import annotations

import pytest

from domains.sqlwatch.jobs import DIFF_ACTOR
from tests.unit.sqlwatch.conftest import make_harness, watch_settings


@pytest.fixture(params=["sqlite"])
def db_url(request, tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


def test_a_second_reader_waits_while_the_first_holds_the_lease(app_db, db_url, redis_client):
    config = watch_settings(db_url, mode="poll", interval_s=60)
    first = make_harness("trips", config, redis_client)
    second = make_harness("trips", config, redis_client)
    first.pump()
    second.pump()
    assert [job[1] for job in first.jobs.sent] == [DIFF_ACTOR]
    assert second.jobs.sent == []
    first.reader.close()
    redis_client.delete("hookstream:{sql.trips}:pending")
    second.pump()
    assert [job[1] for job in second.jobs.sent] == [DIFF_ACTOR]


def test_a_queued_diff_is_not_asked_for_twice(app_db, db_url, redis_client):
    config = watch_settings(db_url, mode="poll", interval_s=0.001)
    harness = make_harness("trips", config, redis_client)
    for _ in range(3):
        harness.pump()
    assert len(harness.jobs.sent) == 1

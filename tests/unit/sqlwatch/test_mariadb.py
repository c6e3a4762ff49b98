"""MariaDB specifics: a reader whose connections are killed loses nothing (no pre-ping)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from domains.sqlwatch import triggers
from tests.unit.sqlwatch.conftest import make_harness, watch_settings
from tests.unit.sqlwatch.test_postgres import wait_until


@pytest.fixture(params=["mysql"])
def db_url(request, server_database) -> str:
    return server_database(request.param)


def test_killed_connections_lose_nothing(app_db, db_url, redis_client):
    config = watch_settings(db_url)
    triggers.execute(app_db, triggers.install_sql(app_db, "trips", config))
    from domains.sqlwatch.watch import Watch
    harness = make_harness("trips", config, redis_client,
                           engine=Watch("trips", config).engine(pre_ping=False))
    stop = threading.Event()
    thread = threading.Thread(target=harness.reader.run, args=(stop,))
    thread.start()
    try:
        with app_db.begin() as connection:
            connection.execute(sa.text("INSERT INTO trips (id, company_id) VALUES (1, 7)"))
        wait_until(lambda: len(harness.events()) == 1)
        with app_db.begin() as connection:
            mine = connection.execute(sa.text("SELECT CONNECTION_ID()")).scalar()
            others = connection.execute(sa.text(
                "SELECT id FROM information_schema.processlist "
                "WHERE db = DATABASE() AND id <> :me"), {"me": mine}).scalars().all()
            assert others, "the reader holds a pooled connection to kill"
            for other in others:
                connection.execute(sa.text(f"KILL {int(other)}"))
            connection.execute(sa.text("INSERT INTO trips (id, company_id) VALUES (2, 7)"))
        wait_until(lambda: len(harness.events()) == 2)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert [e["data"]["key"]["id"] for e in harness.events()] == [1, 2]

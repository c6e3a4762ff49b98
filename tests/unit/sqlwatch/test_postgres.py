"""PostgreSQL specifics: late commits, LISTEN wake-ups, a killed connection, a reader offline."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from domains.sqlwatch import triggers
from tests.unit.sqlwatch.conftest import make_harness, watch_settings


@pytest.fixture(params=["postgresql"])
def db_url(request, server_database) -> str:
    return server_database(request.param)


def wait_until(predicate, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def installed(app_db, db_url, redis_client):
    config = watch_settings(db_url)
    triggers.execute(app_db, triggers.install_sql(app_db, "trips", config))
    return make_harness("trips", config, redis_client)


def test_a_transaction_that_commits_late_is_not_skipped(app_db, db_url, redis_client):
    harness = installed(app_db, db_url, redis_client)
    harness.pump()
    with app_db.connect() as long_tx:
        long_tx.execute(sa.text("INSERT INTO trips (id, company_id) VALUES (1, 7)"))  # id 1 first
        with app_db.begin() as short_tx:
            short_tx.execute(sa.text("INSERT INTO trips (id, company_id) VALUES (2, 7)"))
        harness.pump()
        assert [e["data"]["key"]["id"] for e in harness.events()] == [2]
        long_tx.commit()
    harness.pump()
    assert [e["data"]["key"]["id"] for e in harness.events()] == [2, 1]


def test_listen_wakes_the_reader_and_a_killed_connection_loses_nothing(app_db, db_url,
                                                                       redis_client):
    harness = installed(app_db, db_url, redis_client)
    stop = threading.Event()
    thread = threading.Thread(target=harness.reader.run, args=(stop,))
    thread.start()
    try:
        wait_until(lambda: harness.reader._listener is not None)
        with app_db.begin() as connection:
            connection.execute(sa.text("INSERT INTO trips (id, company_id) VALUES (1, 7)"))
        wait_until(lambda: len(harness.events()) == 1)
        with app_db.begin() as connection:
            connection.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            connection.execute(sa.text("INSERT INTO trips (id, company_id) VALUES (2, 7)"))
        with app_db.begin() as connection:
            connection.execute(sa.text("UPDATE trips SET seats = 5 WHERE id = 2"))
        wait_until(lambda: len(harness.events()) == 3)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert [e["type"] for e in harness.events()] == ["row.added", "row.added", "row.changed"]


def test_a_reader_offline_catches_up_without_loss_or_repeat(app_db, db_url, redis_client):
    harness = installed(app_db, db_url, redis_client)
    harness.pump()
    harness.reader.close()
    with app_db.begin() as connection:
        for trip in range(1, 51):
            connection.execute(sa.text("INSERT INTO trips (id, company_id) VALUES (:i, 7)"),
                               {"i": trip})
    restarted = make_harness("trips", harness.watch.config, redis_client)
    restarted.pump()
    restarted.pump()
    assert [e["data"]["key"]["id"] for e in restarted.events()] == list(range(1, 51))


def test_an_idle_push_reader_sends_no_query_while_renewing_its_lease(app_db, db_url,
                                                                     redis_client):
    from common.publishing import EventLog
    from common.settings import EventLogSettings
    from domains.sqlwatch.jobs import MemoryJobs
    from domains.sqlwatch.reader import WatchReader
    from domains.sqlwatch.watch import Watch

    config = watch_settings(db_url)
    triggers.execute(app_db, triggers.install_sql(app_db, "trips", config))
    watch = Watch("trips", config)
    engine = watch.engine()
    statements = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda *args, **kwargs: statements.append(args[2]))
    log = EventLog(redis_client, EventLogSettings())
    reader = WatchReader(watch, engine=engine, state=watch.state(redis_client, "hookstream",
                                                                 EventLogSettings()),
                         publisher=log, jobs=MemoryJobs(), client=redis_client,
                         namespace="hookstream", queue="default", lease_ttl_s=0.3)
    stop = threading.Event()
    thread = threading.Thread(target=reader.run, args=(stop,))
    thread.start()
    try:
        wait_until(lambda: reader._listener is not None and reader._seeded)
        settled = -1
        while settled != len(statements):  # the first drain is over
            settled = len(statements)
            time.sleep(0.3)
        before = len(statements)
        ttl_before = redis_client.pttl("hookstream:{sql.trips}:reader")
        time.sleep(1.0)  # about ten lease renewals
        assert len(statements) == before
        assert redis_client.pttl("hookstream:{sql.trips}:reader") > 0 and ttl_before > 0
        with app_db.begin() as connection:
            connection.execute(sa.text("INSERT INTO trips (id, company_id) VALUES (1, 7)"))
        wait_until(lambda: redis_client.xlen(log.stream_key) == 1)
        assert len(statements) > before
    finally:
        stop.set()
        thread.join(timeout=10)
        engine.dispose()

"""Poll, watermark and query watches: the worker-side diff against the rows kept in Redis."""

from __future__ import annotations

import sqlalchemy as sa

from common.publishing import EventLog
from common.settings import EventLogSettings
from domains.sqlwatch import triggers
from domains.sqlwatch.differ import Differ
from domains.sqlwatch.jobs import DIFF_ACTOR
from domains.sqlwatch.watch import Watch
from tests.unit.sqlwatch.conftest import NAMESPACE, make_harness, watch_settings

JOIN = ("SELECT t.id, t.company_id, t.seats, count(b.id) AS booked FROM trips t "
        "LEFT JOIN bookings b ON b.trip_id = t.id GROUP BY t.id, t.company_id, t.seats")


def run(engine, *statements):
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))


def make_differ(name, config, redis_client, engine):
    watch = Watch(name, config)
    log = EventLog(redis_client, EventLogSettings())
    return Differ(watch, engine=engine, state=watch.state(redis_client, NAMESPACE,
                                                          EventLogSettings()),
                  publisher=log, client=redis_client, namespace=NAMESPACE), log


def events(redis_client, log):
    import orjson
    return [orjson.loads(f[b"e"]) for _, f in redis_client.xrange(log.stream_key)]


def test_poll_mode_sends_only_what_changed_and_survives_a_restart(app_db, db_url,
                                                                  redis_client):
    run(app_db, "INSERT INTO trips (id, company_id, seats) VALUES (1, 7, 40), (2, 8, 30)")
    config = watch_settings(db_url, mode="poll", columns=None)
    differ, log = make_differ("trips", config, redis_client, app_db)
    assert differ.run().seeded
    run(app_db, "UPDATE trips SET seats = 39 WHERE id = 1", "DELETE FROM trips WHERE id = 2",
        "INSERT INTO trips (id, company_id) VALUES (3, 7)",
        "UPDATE trips SET secret = 's' WHERE id = 1")
    assert differ.run().events == 3
    restarted, _ = make_differ("trips", config, redis_client, app_db)
    assert restarted.run().events == 0
    got = sorted((e["type"], e["data"]["key"]["id"]) for e in events(redis_client, log))
    assert got == [("row.added", 3), ("row.changed", 1), ("row.removed", 2)]
    changed = next(e for e in events(redis_client, log) if e["type"] == "row.changed")
    assert changed["data"]["fields"] == {"seats": 39, "secret": "s"}


def test_watermark_mode_reads_rows_past_the_mark(app_db, db_url, redis_client):
    run(app_db, "INSERT INTO trips (id, company_id, seats) VALUES (1, 7, 1), (2, 7, 2)")
    config = watch_settings(db_url, mode="watermark", watermark="seats")
    differ, log = make_differ("trips", config, redis_client, app_db)
    differ.run()
    run(app_db, "UPDATE trips SET seats = 5, name = 'x' WHERE id = 1")
    assert differ.run().rows == 2  # at or past the mark 2: the row at the mark is read again
    (event,) = events(redis_client, log)
    assert event["data"]["fields"] == {"seats": 5, "name": "x"}
    assert differ.run().events == 0


def test_a_query_watch_with_a_join_diffs_once_per_burst(app_db, db_url, redis_client):
    dialect = app_db.dialect.name
    ddl = ("CREATE TABLE bookings (id INTEGER PRIMARY KEY, trip_id INTEGER NOT NULL)"
           + (" ENGINE=InnoDB" if dialect == "mysql" else ""))
    run(app_db, ddl, "INSERT INTO trips (id, company_id, seats) VALUES (1, 7, 40)")
    config = watch_settings(db_url, table=None, query=JOIN, tables=["trips", "bookings"],
                            columns=None, debounce_s=0.01)
    triggers.execute(app_db, triggers.install_sql(app_db, "seats", config))
    harness = make_harness("seats", config, redis_client)
    differ, log = make_differ("seats", config, redis_client, app_db)
    differ.run()
    harness.pump()
    assert harness.jobs.sent == []
    with app_db.begin() as connection:
        for booking in range(1, 1001):
            connection.execute(sa.text("INSERT INTO bookings (id, trip_id) VALUES (:b, 1)"),
                               {"b": booking})
    harness.pump()
    assert [job[1:3] for job in harness.jobs.sent] == [(DIFF_ACTOR, ["seats"])]
    assert differ.run().events == 1
    (event,) = events(redis_client, log)
    assert event["topic"] == "trips/company/7"
    assert event["data"]["fields"] == {"booked": 1000}
    with app_db.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM hookstream_changes")).scalar() == 0

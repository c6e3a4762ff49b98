"""Push mode through the real triggers on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from common.errors import ReplicasBehind
from common.replicas import LaggingReplicas
from domains.sqlwatch import triggers
from tests.unit.sqlwatch.conftest import make_harness, watch_settings


def run(engine: sa.Engine, *statements: str, params: dict | None = None) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement), params or {})


def installed(app_db, db_url, redis_client, **overrides):
    config = watch_settings(db_url, **overrides)
    triggers.execute(app_db, triggers.install_sql(app_db, "trips", config))
    harness = make_harness("trips", config, redis_client)
    harness.pump()
    return harness


def test_insert_update_delete_and_a_move_between_tenants(app_db, db_url, redis_client):
    harness = installed(app_db, db_url, redis_client)
    run(app_db, "INSERT INTO trips (id, company_id, name, seats, secret) "
                "VALUES (1, 7, 'Lagos-Abuja', 40, 'x')")
    run(app_db, "UPDATE trips SET seats = 39 WHERE id = 1")
    run(app_db, "UPDATE trips SET secret = 'y' WHERE id = 1")
    run(app_db, "UPDATE trips SET company_id = 8 WHERE id = 1")
    run(app_db, "DELETE FROM trips WHERE id = 1")
    harness.pump()
    events = [(e["topic"], e["type"], e["data"]) for e in harness.events()]
    row = {"id": 1, "company_id": 7, "name": "Lagos-Abuja", "seats": 40, "notes": None}
    assert events == [
        ("trips/company/7", "row.added", {"watch": "trips", "key": {"id": 1}, "row": row}),
        ("trips/company/7", "row.changed", {"watch": "trips", "key": {"id": 1},
                                            "fields": {"seats": 39}, "previous": {"seats": 40}}),
        ("trips/company/7", "row.removed", {"watch": "trips", "key": {"id": 1},
                                            "previous": {**row, "seats": 39}}),
        ("trips/company/8", "row.added", {"watch": "trips", "key": {"id": 1},
                                          "row": {**row, "seats": 39, "company_id": 8}}),
        ("trips/company/8", "row.removed", {"watch": "trips", "key": {"id": 1},
                                            "previous": {**row, "seats": 39, "company_id": 8}}),
    ]
    with app_db.connect() as connection:
        left = connection.execute(sa.text("SELECT count(*) FROM hookstream_changes")).scalar()
    assert left == 0


def test_a_100kb_row_arrives_whole(app_db, db_url, redis_client):
    harness = installed(app_db, db_url, redis_client)
    notes = "n" * 100_000
    run(app_db, "INSERT INTO trips (id, company_id, notes) VALUES (2, 7, :notes)",
        params={"notes": notes})
    harness.pump()
    (event,) = harness.events()
    assert event["data"]["row"]["notes"] == notes


def test_existing_rows_are_stored_silently_and_snapshots_split_tenants(app_db, db_url,
                                                                        redis_client):
    run(app_db, "INSERT INTO trips (id, company_id, name) VALUES (1, 7, 'a'), (2, 8, 'b')")
    harness = installed(app_db, db_url, redis_client)
    assert harness.events() == []
    run(app_db, "UPDATE trips SET name = 'c' WHERE id = 2")
    harness.pump()
    state = harness.watch.state(redis_client, "hookstream", harness.log._settings)
    snapshot = state.snapshot("trips/company/8")
    assert [row["name"] for row in snapshot.rows] == ["c"]
    last = redis_client.xrevrange(harness.log.stream_key, count=1)[0][0].decode()
    assert snapshot.position == last
    assert [row["id"] for row in state.snapshot("trips/company/7").rows] == [1]


def test_a_burst_arrives_in_order_once(app_db, db_url, redis_client):
    harness = installed(app_db, db_url, redis_client)
    with app_db.begin() as connection:
        connection.execute(sa.text("INSERT INTO trips (id, company_id, seats) VALUES (1, 7, 0)"))
        for seats in range(1, 1201):
            connection.execute(sa.text("UPDATE trips SET seats = :s WHERE id = 1"), {"s": seats})
    harness.pump()
    events = harness.events()
    assert len(events) == 1201
    assert [e["data"]["fields"]["seats"] for e in events[1:]] == list(range(1, 1201))


def test_a_reader_restart_after_publishing_repeats_nothing(app_db, db_url, redis_client):
    harness = installed(app_db, db_url, redis_client)
    run(app_db, "INSERT INTO trips (id, company_id) VALUES (1, 7)",
        "UPDATE trips SET seats = 3 WHERE id = 1")
    with app_db.connect() as connection:
        from domains.sqlwatch.applier import batch_from_changes, publish_and_commit
        from domains.sqlwatch.changelog import read_changes
        changes = read_changes(connection, "trips", limit=100)
    # a reader that published and died before deleting the change-log rows
    publish_and_commit(batch_from_changes(harness.watch.shape, changes, {}), harness.log,
                       harness.watch.state(redis_client, "hookstream", harness.log._settings))
    restarted = make_harness("trips", harness.watch.config, redis_client)
    restarted.pump()
    assert [e["type"] for e in restarted.events()] == ["row.added", "row.changed"]
    assert restarted.reader.published == 0


def test_change_log_rows_stay_until_the_replicas_have_the_events(app_db, db_url,
                                                                 redis_client):
    config = watch_settings(db_url)
    triggers.execute(app_db, triggers.install_sql(app_db, "trips", config))
    replicas = LaggingReplicas()
    harness = make_harness("trips", config, redis_client, replicas=replicas)
    harness.pump()  # seeded from an empty table; an empty log needs no confirmation
    run(app_db, "INSERT INTO trips (id, company_id) VALUES (1, 7)",
        "UPDATE trips SET seats = 3 WHERE id = 1")
    with pytest.raises(ReplicasBehind):
        harness.pump()
    with app_db.connect() as connection:
        kept = connection.execute(sa.text("SELECT count(*) FROM hookstream_changes")).scalar()
    assert kept == 2  # published, but kept: the replica may not have the events yet
    harness.reader._close_listener()  # as `run` does after an error: reconnect, then drain
    harness.pump()
    with app_db.connect() as connection:
        left = connection.execute(sa.text("SELECT count(*) FROM hookstream_changes")).scalar()
    assert left == 0
    assert [e["type"] for e in harness.events()] == ["row.added", "row.changed"]


def test_install_and_remove_are_idempotent(app_db, db_url, redis_client):
    config = watch_settings(db_url)
    for _ in range(2):
        triggers.execute(app_db, triggers.install_sql(app_db, "trips", config))
    for _ in range(2):
        triggers.execute(app_db, triggers.remove_sql(app_db, "trips", config))
    run(app_db, "INSERT INTO trips (id, company_id) VALUES (1, 7)")
    with app_db.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM hookstream_changes")).scalar() == 0

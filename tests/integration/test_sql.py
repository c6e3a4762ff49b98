"""End to end: a SQLite database -> triggers -> readers -> worker diff -> event log -> SSE.

Real gunicorn ingress, dramatiq worker (with workers.sql), scheduler, uvicorn
streamer (whose scheduler runs the SQL readers).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from common.settings import WatchSettings
from domains.sqlwatch import triggers
from hookstream import processes
from hookstream.embedded import free_port
from hookstream.supervisor import Supervisor, wait_http_ok
from tests.integration.conftest import _print_logs_on_failure
from tests.integration.streamer_support import JWT_SECRET, token
from tests.sse_client import SseReader

pytestmark = pytest.mark.integration
JOIN = ("SELECT t.id, t.company_id, count(b.id) AS booked FROM trips t "
        "LEFT JOIN bookings b ON b.trip_id = t.id GROUP BY t.id, t.company_id")


def config_text(db_url: str) -> str:
    return f"""
log_format = "json"
[streamer]
heartbeat_s = 1
jwt_secret = "{JWT_SECRET}"
[ingress]
publish_keys = ["integration-key"]
[watches.trips]
url = "{db_url}"
table = "trips"
key = ["id"]
topic = "trips/company/{{company_id}}"
columns = ["id", "company_id", "name", "seats"]
changelog_poll_s = 0.01
[watches.seats]
url = "{db_url}"
query = "{JOIN}"
tables = ["trips", "bookings"]
key = ["id"]
topic = "seats/company/{{company_id}}"
changelog_poll_s = 0.01
debounce_s = 0.02
"""


@pytest.fixture
def sql_system(tmp_path: Path, redis_url: str):
    db_url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = sa.create_engine(db_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE trips (id INTEGER PRIMARY KEY, "
                                   "company_id INTEGER, name TEXT, seats INTEGER, secret TEXT)")
        connection.exec_driver_sql(
            "CREATE TABLE bookings (id INTEGER PRIMARY KEY, trip_id INTEGER)")
        connection.exec_driver_sql("INSERT INTO trips VALUES (1, 7, 'Lagos', 40, 'x'), "
                                   "(2, 8, 'Kano', 30, 'y')")
    (tmp_path / "hookstream.toml").write_text(config_text(db_url))
    for name, query in (("trips", None), ("seats", JOIN)):
        config = WatchSettings.model_validate(
            {"url": db_url, "key": ["id"], "topic": "t", **(
                {"query": query, "tables": ["trips", "bookings"]} if query else {"table": name})})
        triggers.execute(engine, triggers.install_sql(engine, name, config))
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKSTREAM_")}
    env.update(HOOKSTREAM_CONFIG=str(tmp_path / "hookstream.toml"), HOOKSTREAM_REDIS_URL=redis_url)
    ports = processes.Ports(ingress=free_port(), streamer=free_port())
    supervisor = Supervisor(env, log_dir=str(tmp_path), restart=False)
    for name, argv in processes.all_processes(ports).items():
        supervisor.start(name, argv)
    try:
        wait_http_ok(f"http://127.0.0.1:{ports.ingress}/readyz")
        wait_http_ok(f"http://127.0.0.1:{ports.streamer}/readyz")
        yield engine, f"http://127.0.0.1:{ports.ingress}", f"http://127.0.0.1:{ports.streamer}"
    finally:
        supervisor.stop()
        engine.dispose()
        _print_logs_on_failure(tmp_path)


def snapshot_when_ready(ingress: str, watch: str, topic: str, bearer: str) -> dict:
    deadline = time.monotonic() + 30
    while True:
        answer = httpx.get(f"{ingress}/sql/{watch}/snapshot", params={"topic": topic},
                           headers={"Authorization": f"Bearer {bearer}"})
        assert answer.status_code == 200, answer.text
        if answer.json()["rows"] or time.monotonic() > deadline:
            return answer.json()
        time.sleep(0.05)


def test_a_company_admin_loads_its_trips_then_sees_only_its_changes_live(sql_system):
    engine, ingress, streamer = sql_system
    jwt = token(["trips/company/7", "seats/company/7"], sub="admin-7")
    trips = snapshot_when_ready(ingress, "trips", "trips/company/7", jwt)
    assert trips["rows"] == [{"id": 1, "company_id": 7, "name": "Lagos", "seats": 40}]
    seats = snapshot_when_ready(ingress, "seats", "seats/company/7", jwt)
    assert seats["rows"] == [{"id": 1, "company_id": 7, "booked": 0}]
    forbidden = httpx.get(f"{ingress}/sql/trips/snapshot", params={"topic": "trips/company/8"},
                          headers={"Authorization": f"Bearer {jwt}"})
    assert forbidden.status_code == 403
    position = max(trips["position"], seats["position"],
                   key=lambda p: tuple(int(x) for x in p.split("-")))
    reader = SseReader(f"{streamer}/events", params={
        "topic": ["trips/company/7", "seats/company/7"], "lastEventId": position},
        headers={"Authorization": f"Bearer {jwt}"}).wait_connected()
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE trips SET name = 'z' WHERE id = 2")
            connection.exec_driver_sql("UPDATE trips SET seats = 39, secret = 'q' WHERE id = 1")
            connection.exec_driver_sql("INSERT INTO bookings (id, trip_id) VALUES (1, 1)")
        got = {}
        while len(got) < 2:
            event = reader.next_event(timeout_s=20)
            envelope = json.loads(event.data)
            got[envelope["topic"]] = (event.event, envelope["data"])
    finally:
        reader.close()
    assert got["trips/company/7"] == ("row.changed", {
        "watch": "trips", "key": {"id": 1}, "fields": {"seats": 39}, "previous": {"seats": 40}})
    assert got["seats/company/7"] == ("row.changed", {
        "watch": "seats", "key": {"id": 1}, "fields": {"booked": 1}, "previous": {"booked": 0}})

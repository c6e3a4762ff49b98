"""Fresh databases for the SQL watch tests: SQLite always, PostgreSQL and MariaDB when reachable.

Each run creates its own database (random name) on the local servers and drops
it afterwards. Without a server the tests skip with the reason; with CI=true a
missing server fails instead, so CI never passes by skipping.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from common.publishing import EventLog
from common.settings import EventLogSettings, WatchSettings
from domains.sqlwatch.jobs import MemoryJobs
from domains.sqlwatch.reader import WatchReader
from domains.sqlwatch.watch import Watch

SERVERS = {
    "postgresql": os.environ.get("HOOKSTREAM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"),
    "mysql": os.environ.get("HOOKSTREAM_TEST_MARIADB", "mysql://root@127.0.0.1:3306/test"),
}
NAMESPACE = "hookstream"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server_database() -> Iterator[Callable[[str], str]]:
    """dialect -> URL of a database created for this run (dropped at the end)."""
    made: dict[str, tuple[sa.Engine, str, str]] = {}

    def database(dialect: str) -> str:
        if dialect in made:
            return made[dialect][2]
        admin = sa.create_engine(SERVERS[dialect].replace("postgresql://", "postgresql+psycopg://")
                                 .replace("mysql://", "mysql+pymysql://"),
                                 isolation_level="AUTOCOMMIT")
        name = f"hs_test_{uuid.uuid4().hex[:12]}"
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f"CREATE DATABASE {name}")
        except sa.exc.OperationalError as exc:
            _unavailable(f"no {dialect} server at {SERVERS[dialect]}: {exc.orig}")
        url = sa.make_url(SERVERS[dialect]).set(database=name).render_as_string(hide_password=False)
        made[dialect] = (admin, name, url)
        return url

    yield database
    for dialect, (admin, name, _) in made.items():
        with admin.connect() as connection:
            if dialect == "postgresql":
                connection.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, server_database) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    return server_database(request.param)


TRIPS_DDL = {
    "sqlite": "CREATE TABLE trips (id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL, "
              "name TEXT, seats INTEGER, notes TEXT, secret TEXT)",
    "postgresql": "CREATE TABLE trips (id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL, "
                  "name TEXT, seats INTEGER, notes TEXT, secret TEXT)",
    "mysql": "CREATE TABLE trips (id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL, "
             "name VARCHAR(100), seats INTEGER, notes LONGTEXT, secret VARCHAR(100)) ENGINE=InnoDB",
}


@pytest.fixture
def app_db(db_url: str) -> Iterator[sa.Engine]:
    """The app's database with an empty ``trips`` table (and no change log yet)."""
    from domains.sqlwatch.engines import create_engine, dialect_of

    engine = create_engine(db_url)
    dialect = dialect_of(db_url)
    with engine.begin() as connection:
        for table in ("bookings", "trips", "hookstream_changes"):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        connection.exec_driver_sql(TRIPS_DDL[dialect])
    yield engine
    engine.dispose()


def watch_settings(url: str, **overrides: Any) -> WatchSettings:
    data: dict[str, Any] = {"url": url, "table": "trips", "key": ["id"],
                            "topic": "trips/company/{company_id}",
                            "columns": ["id", "company_id", "name", "seats", "notes"],
                            "changelog_poll_s": 0.01}
    data.update(overrides)
    return WatchSettings.model_validate(data)


@dataclass
class Harness:
    watch: Watch
    reader: WatchReader
    log: EventLog
    client: redis.Redis
    jobs: MemoryJobs

    def pump(self) -> None:
        """What `WatchReader.run` does between passes: on PostgreSQL wait for the NOTIFY."""
        if self.reader._listener is not None:
            self.reader.wait(2.0, threading.Event())
        self.reader.step()

    def events(self) -> list[dict[str, Any]]:
        import orjson

        return [orjson.loads(fields[b"e"]) for _, fields in
                self.client.xrange(self.log.stream_key)]


def make_harness(name: str, config: WatchSettings, client: redis.Redis,
                 engine: sa.Engine | None = None, replicas: Any = None) -> Harness:
    watch = Watch(name, config)
    log = EventLog(client, EventLogSettings())
    jobs = MemoryJobs()
    reader = WatchReader(watch, engine=engine or watch.engine(),
                         state=watch.state(client, NAMESPACE, EventLogSettings()),
                         publisher=log, jobs=jobs, client=client, namespace=NAMESPACE,
                         queue="default", replicas=replicas)
    return Harness(watch, reader, log, client, jobs)

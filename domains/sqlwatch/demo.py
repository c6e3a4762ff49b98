"""The seed's bus company demo on SQLite: trips and bookings, and selling a ticket.

`hookstream dev` creates ``demo.db`` beside its config, installs the triggers of
the ``demo-trips`` watch and shows the page at ``GET /sql/demo`` on the
ingress: each company's trips with their free seats, loaded with the snapshot
endpoint and kept live by the SSE stream. ``Sell`` (or ``hookstream sql sell
TRIP``) books a seat in one transaction; the trigger logs the change and the
seat count falls on every open page within milliseconds.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import sqlalchemy as sa

from common.settings import WatchSettings
from domains.sqlwatch import triggers
from domains.sqlwatch.errors import SqlWatchError

WATCH = "demo-trips"
TRIPS = [(1, 1, "Lagos -> Abuja", 40), (2, 1, "Lagos -> Ibadan", 18), (3, 2, "Kano -> Kaduna", 30),
         (4, 2, "Kano -> Jos", 12)]
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS trips (id INTEGER PRIMARY KEY, company_id INTEGER NOT NULL, "
    "route TEXT NOT NULL, seats_total INTEGER NOT NULL, seats_left INTEGER NOT NULL, "
    "booking_halted INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS bookings (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "trip_id INTEGER NOT NULL REFERENCES trips (id), sold_at TEXT NOT NULL "
    "DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))",
]


class SoldOut(SqlWatchError):
    pass


def page() -> bytes:
    return (files("domains.sqlwatch") / "demo.html").read_bytes()


def demo_watch_toml(db_path: Path) -> str:
    return f"""
[watches.{WATCH}]
url = "sqlite:///{db_path}"
table = "trips"
key = ["id"]
topic = "demo/trips/company/{{company_id}}"
columns = ["id", "company_id", "route", "seats_total", "seats_left", "booking_halted"]
"""


def prepare(config: WatchSettings) -> None:
    """Create the demo tables and trips once, and (re)install the watch's triggers."""
    engine = sa.create_engine(config.url.get_secret_value())
    try:
        with engine.begin() as connection:
            for statement in SCHEMA:
                connection.exec_driver_sql(statement)
            if not connection.exec_driver_sql("SELECT count(*) FROM trips").scalar():
                for trip, company, route, seats in TRIPS:
                    connection.execute(sa.text(
                        "INSERT INTO trips (id, company_id, route, seats_total, seats_left) "
                        "VALUES (:t, :c, :r, :s, :s)"), {"t": trip, "c": company, "r": route,
                                                         "s": seats})
        triggers.execute(engine, triggers.install_sql(engine, WATCH, config))
    finally:
        engine.dispose()


def sell(url: str, trip_id: int) -> int:
    """Book one seat on *trip_id*; returns the seats left. Raises `SoldOut`."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            left = connection.execute(sa.text(
                "UPDATE trips SET seats_left = seats_left - 1 WHERE id = :t AND seats_left > 0 "
                "RETURNING seats_left"), {"t": trip_id}).scalar()
            if left is None:
                raise SoldOut(f"trip {trip_id} is sold out or does not exist")
            connection.execute(sa.text("INSERT INTO bookings (trip_id) VALUES (:t)"),
                               {"t": trip_id})
        return int(left)
    finally:
        engine.dispose()

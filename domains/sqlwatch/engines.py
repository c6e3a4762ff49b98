"""SQLAlchemy engines for watch URLs, with the drivers hookstream ships.

``postgresql://`` uses psycopg 3 and ``mysql://`` / ``mariadb://`` use PyMySQL,
so a URL copied from any tool works without naming a driver.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg",
           "mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}


def normalise_url(url: str) -> URL:
    parsed = make_url(url)
    driver = DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def dialect_of(url: str) -> str:
    """``postgresql``, ``sqlite``, ``mysql`` (MariaDB too) or another SQLAlchemy name."""
    name = normalise_url(url).get_backend_name()
    return "mysql" if name == "mariadb" else name


def create_engine(url: str, *, pre_ping: bool = True) -> sa.Engine:
    """An engine; pooled connections are checked before use unless *pre_ping* is off.

    The readers turn the check off (one round trip less per wake-up): a dead
    connection fails their pass, is dropped from the pool, and the retry reconnects.
    """
    if dialect_of(url) == "sqlite":
        return sa.create_engine(normalise_url(url))
    return sa.create_engine(normalise_url(url), pool_pre_ping=pre_ping, pool_size=2,
                            max_overflow=2)


def libpq_url(url: str) -> str:
    """The URL in the form psycopg's own ``connect()`` takes (for LISTEN)."""
    parsed = normalise_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)

"""Reading a watch's rows: the whole table or query, or the rows past a watermark.

A query watch's SELECT is wrapped as a subquery (``SELECT * FROM (query) AS hs``)
so the watermark filter and the ordering apply to any SELECT. Values come back
JSON-native (`diff.plain`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import sqlalchemy as sa

from common.settings import WatchSettings
from domains.sqlwatch.diff import plain, plain_row
from domains.sqlwatch.triggers import watched_tables

FETCH_ROWS = 5_000


def source_sql(engine: sa.Engine, config: WatchSettings) -> str:
    """The watch's rows as one SELECT."""
    if config.query is not None:
        return config.query.strip().rstrip(";")
    (table,) = watched_tables(config)
    preparer = engine.dialect.identifier_preparer
    return "SELECT * FROM " + ".".join(preparer.quote_identifier(p) for p in table.split("."))


def read_all(engine: sa.Engine, config: WatchSettings) -> Iterator[dict[str, Any]]:
    """Every row of the watch, in chunks, values as the driver gives them.

    Straight from the DBAPI cursor, tuples zipped with the column names:
    SQLAlchemy's row objects cost more than everything else in a 100,000-row
    diff. `diff.Entry.dumps` makes the values JSON.
    """
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(source_sql(engine, config))
        columns = [str(column[0]) for column in cursor.description or ()]
        while chunk := cursor.fetchmany(FETCH_ROWS):
            for values in chunk:
                yield dict(zip(columns, values, strict=True))
        cursor.close()
        raw.rollback()
    finally:
        raw.close()


def count_rows(engine: sa.Engine, config: WatchSettings) -> int:
    with engine.connect() as connection:
        total = connection.execute(
            sa.text(f"SELECT count(*) FROM ({source_sql(engine, config)}) AS hs")).scalar()
    return int(total or 0)


def read_since(engine: sa.Engine, config: WatchSettings, watermark: Any
               ) -> tuple[list[dict[str, Any]], Any]:
    """Rows whose watermark is at or past *watermark* (all rows when None), and the new mark.

    At-or-past (``>=``), not past: rows sharing the last mark that commit later
    are read again, and the diff against the stored rows makes a re-read silent.
    """
    assert config.watermark is not None
    column = engine.dialect.identifier_preparer.quote_identifier(config.watermark)
    sql = f"SELECT * FROM ({source_sql(engine, config)}) AS hs"
    params: dict[str, Any] = {}
    if watermark is not None:
        sql += f" WHERE hs.{column} >= :mark"
        params["mark"] = watermark
    with engine.connect() as connection:
        rows = [plain_row(dict(row)) for row in
                connection.execute(sa.text(sql + f" ORDER BY hs.{column}"), params).mappings()]
    mark = rows[-1][config.watermark] if rows else watermark
    return rows, mark


def dump_mark(mark: Any) -> str:
    return orjson.dumps(mark, default=plain).decode()


def load_mark(raw: str | None) -> Any:
    return orjson.loads(raw) if raw else None

"""Change-capture triggers, one design for PostgreSQL, SQLite and MariaDB/MySQL.

Each watched table gets AFTER INSERT/UPDATE/DELETE triggers that write one row
per change to ``hookstream_changes`` (one table per database, shared by every
watch), in the writing transaction: the watch name, the table, the operation
(``I``/``U``/``D``), the old and new row as JSON and, on PostgreSQL, the
writing transaction's id (``txid_current()``). A change is therefore in the log
exactly when it is committed, whatever its size: the 8,000-byte NOTIFY limit
never applies, because on PostgreSQL the trigger's ``pg_notify`` carries an
empty payload and is only a wake-up (PostgreSQL folds identical notifications of
one transaction into one). SQLite and MariaDB have no NOTIFY: the reader polls
the change log with an indexed query every ``changelog_poll_s``.

A query watch (``query`` + ``tables``) only needs to know *that* a table
changed: its triggers log the operation without rows (on PostgreSQL one row per
statement), and the reader re-runs the query.

Installing is idempotent (CREATE ... IF NOT EXISTS, DROP TRIGGER IF EXISTS then
CREATE); removing drops this watch's triggers and its pending log rows and
keeps the shared table. `install_sql` / `remove_sql` return the statements so
``hookstream sql install-triggers WATCH --print`` shows exactly what would run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import sqlalchemy as sa

from common.settings import WatchSettings
from domains.sqlwatch.engines import dialect_of
from domains.sqlwatch.errors import SqlWatchError, UnsupportedDialect

CHANGES_TABLE = "hookstream_changes"
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
OPERATIONS = {"i": "INSERT", "u": "UPDATE", "d": "DELETE"}
SUPPORTED = ("postgresql", "sqlite", "mysql")

PG_TABLE = f"""CREATE TABLE IF NOT EXISTS {CHANGES_TABLE} (
    id BIGSERIAL PRIMARY KEY,
    watch TEXT NOT NULL,
    tbl TEXT NOT NULL,
    op CHAR(1) NOT NULL,
    old_row JSON,
    new_row JSON,
    xid BIGINT NOT NULL DEFAULT txid_current(),
    created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
)"""
PG_FUNCTION = f"""CREATE OR REPLACE FUNCTION hookstream_capture() RETURNS trigger
LANGUAGE plpgsql AS $hookstream$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        INSERT INTO {CHANGES_TABLE} (watch, tbl, op, old_row, new_row) VALUES (
            TG_ARGV[0], TG_TABLE_NAME, left(TG_OP, 1),
            CASE WHEN TG_OP <> 'INSERT' THEN row_to_json(OLD) END,
            CASE WHEN TG_OP <> 'DELETE' THEN row_to_json(NEW) END);
    ELSE
        INSERT INTO {CHANGES_TABLE} (watch, tbl, op)
            VALUES (TG_ARGV[0], TG_TABLE_NAME, left(TG_OP, 1));
    END IF;
    PERFORM pg_notify(TG_ARGV[1], '');
    RETURN NULL;
END
$hookstream$"""
SQLITE_TABLE = f"""CREATE TABLE IF NOT EXISTS {CHANGES_TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    watch TEXT NOT NULL,
    tbl TEXT NOT NULL,
    op TEXT NOT NULL,
    old_row TEXT,
    new_row TEXT,
    xid INTEGER,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""
MYSQL_TABLE = f"""CREATE TABLE IF NOT EXISTS {CHANGES_TABLE} (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    watch VARCHAR(64) NOT NULL,
    tbl VARCHAR(128) NOT NULL,
    op CHAR(1) NOT NULL,
    old_row LONGTEXT,
    new_row LONGTEXT,
    xid BIGINT,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    KEY {CHANGES_TABLE}_watch_id (watch, id)
) ENGINE=InnoDB"""
INDEX = f"CREATE INDEX IF NOT EXISTS {CHANGES_TABLE}_watch_id ON {CHANGES_TABLE} (watch, id)"


def channel(watch: str) -> str:
    """The PostgreSQL NOTIFY channel of a watch (an identifier of at most 63 bytes)."""
    return f"hs_{watch}"[:63]


def watched_tables(config: WatchSettings) -> list[str]:
    tables = [config.table] if config.table is not None else list(config.tables)
    for table in tables:
        if not TABLE_NAME.match(table):
            raise SqlWatchError(f"table name {table!r} must match {TABLE_NAME.pattern}")
    return tables


def install_sql(engine: sa.Engine, watch: str, config: WatchSettings) -> list[str]:
    """Every statement that installs (or re-installs) the triggers of *watch*."""
    dialect = _dialect(engine)
    rows = config.table is not None
    statements = list(_log_table(dialect))
    for table in watched_tables(config):
        columns = _columns(engine, table) if rows and dialect != "postgresql" else []
        statements += _remove_table(dialect, engine, watch, table)
        statements += _create_table(dialect, engine, watch, table, columns, rows=rows)
    return statements


def remove_sql(engine: sa.Engine, watch: str, config: WatchSettings) -> list[str]:
    """Every statement that removes the triggers of *watch* and its unread log rows."""
    dialect = _dialect(engine)
    statements: list[str] = []
    for table in watched_tables(config):
        statements += _remove_table(dialect, engine, watch, table)
    if sa.inspect(engine).has_table(CHANGES_TABLE):
        statements.append(f"DELETE FROM {CHANGES_TABLE} WHERE watch = {_literal(watch)}")
    return statements


def execute(engine: sa.Engine, statements: Sequence[str]) -> None:
    """Run *statements* in one transaction (PostgreSQL and SQLite DDL is transactional)."""
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def _dialect(engine: sa.Engine) -> str:
    dialect = dialect_of(engine.url.render_as_string(hide_password=False))
    if dialect not in SUPPORTED:
        raise UnsupportedDialect(f"push mode needs PostgreSQL, SQLite or MariaDB/MySQL, not "
                                 f"{dialect}: use mode = \"poll\" or \"watermark\"")
    return dialect


def _log_table(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [PG_TABLE, INDEX, PG_FUNCTION]
    if dialect == "sqlite":
        return [SQLITE_TABLE, INDEX]
    return [MYSQL_TABLE]


def _columns(engine: sa.Engine, table: str) -> list[str]:
    schema, _, name = table.rpartition(".")
    columns = sa.inspect(engine).get_columns(name, schema=schema or None)
    if not columns:
        raise SqlWatchError(f"table {table!r} not found (or has no columns)")
    return [str(column["name"]) for column in columns]


def _trigger_name(watch: str, table: str, suffix: str = "") -> str:
    name = f"hookstream_{watch}_{table.replace('.', '_')}"
    if len(name) > 56:
        name = "hookstream_" + hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:24]
    return name + suffix


def _quote_table(engine: sa.Engine, table: str) -> str:
    preparer = engine.dialect.identifier_preparer
    return ".".join(preparer.quote_identifier(part) for part in table.split("."))


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _remove_table(dialect: str, engine: sa.Engine, watch: str, table: str) -> list[str]:
    quote = engine.dialect.identifier_preparer.quote_identifier
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {quote(_trigger_name(watch, table))} "
                f"ON {_quote_table(engine, table)}"]
    return [f"DROP TRIGGER IF EXISTS {quote(_trigger_name(watch, table, '_' + op))}"
            for op in OPERATIONS]


def _create_table(dialect: str, engine: sa.Engine, watch: str, table: str,
                  columns: list[str], *, rows: bool) -> list[str]:
    quote = engine.dialect.identifier_preparer.quote_identifier
    target = _quote_table(engine, table)
    if dialect == "postgresql":
        level = "ROW" if rows else "STATEMENT"
        return [f"CREATE TRIGGER {quote(_trigger_name(watch, table))} "
                f"AFTER INSERT OR UPDATE OR DELETE ON {target} FOR EACH {level} "
                f"EXECUTE FUNCTION hookstream_capture({_literal(watch)}, "
                f"{_literal(channel(watch))})"]
    function = "json_object" if dialect == "sqlite" else "JSON_OBJECT"
    statements = []
    for op, operation in OPERATIONS.items():
        old = _json_row(function, "OLD", columns, quote) if rows and op != "i" else "NULL"
        new = _json_row(function, "NEW", columns, quote) if rows and op != "d" else "NULL"
        insert = (f"INSERT INTO {CHANGES_TABLE} (watch, tbl, op, old_row, new_row) VALUES "
                  f"({_literal(watch)}, {_literal(table)}, '{op.upper()}', {old}, {new})")
        body = f"BEGIN {insert}; END" if dialect == "sqlite" else insert
        statements.append(f"CREATE TRIGGER {quote(_trigger_name(watch, table, '_' + op))} "
                          f"AFTER {operation} ON {target} FOR EACH ROW {body}")
    return statements


def _json_row(function: str, alias: str, columns: list[str], quote: object) -> str:
    assert callable(quote)
    pairs = ", ".join(f"{_literal(column)}, {alias}.{quote(column)}" for column in columns)
    return f"{function}({pairs})"

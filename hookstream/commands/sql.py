"""``hookstream sql``: install or remove change triggers, show the watches, store a snapshot.

A standalone `click.Group`; every command reads `Settings` from ``ctx.obj.settings``.
"""

from __future__ import annotations

import time
from typing import Any

import click
import redis
import sqlalchemy as sa
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from common.errors import HookstreamError
from common.redis import connect
from common.settings import EventLogSettings, Settings
from domains.sqlwatch import changelog, demo, keys, triggers
from domains.sqlwatch.diff import serialise_rows
from domains.sqlwatch.rows import count_rows, read_all
from domains.sqlwatch.watch import Watch, find_watch


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj.settings
    return settings


def _watch(ctx: click.Context, name: str) -> Watch:
    try:
        return find_watch(_settings(ctx).watches, name)
    except HookstreamError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def sql() -> None:
    """SQL change streaming: triggers, status and snapshots of [watches.NAME]."""


@sql.command("install-triggers")
@click.argument("watch")
@click.option("--print", "print_only", is_flag=True, help="Print the SQL instead of running it.")
@click.pass_context
def install_triggers(ctx: click.Context, watch: str, print_only: bool) -> None:
    """Create the change log and WATCH's triggers (idempotent)."""
    _run_ddl(_watch(ctx, watch), triggers.install_sql, print_only, "installed")


@sql.command("remove-triggers")
@click.argument("watch")
@click.option("--print", "print_only", is_flag=True, help="Print the SQL instead of running it.")
@click.pass_context
def remove_triggers(ctx: click.Context, watch: str, print_only: bool) -> None:
    """Drop WATCH's triggers and its unread changes (idempotent; the log table stays)."""
    _run_ddl(_watch(ctx, watch), triggers.remove_sql, print_only, "removed")


def _run_ddl(watch: Watch, build: Any, print_only: bool, done: str) -> None:
    engine = watch.engine()
    try:
        statements = build(engine, watch.name, watch.config)
        if print_only:
            click.echo(";\n\n".join(statements) + ";")
            return
        triggers.execute(engine, statements)
    except (sa.exc.SQLAlchemyError, HookstreamError) as exc:
        raise click.ClickException(f"{watch.name}: {exc}") from None
    finally:
        engine.dispose()
    click.echo(f"{watch.name}: triggers {done} ({len(statements)} statements)")


@sql.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Each watch: mode, rows kept, last change, lag and unread changes."""
    settings = _settings(ctx)
    client = connect(settings.require_redis_url())
    table = Table("watch", "mode", "database", "rows", "last change", "lag", "unread")
    for name, config in sorted(settings.watches.items()):
        table.add_row(*_status_row(Watch(name, config), client, settings.workers.namespace))
    Console().print(table)


def _status_row(watch: Watch, client: redis.Redis, namespace: str) -> list[str]:
    state = watch.state(client, namespace, EventLogSettings())
    meta = state.meta()
    rows = str(client.hlen(keys.rows_key(namespace, watch.name)))
    last = meta.get("last_change_ms")
    ago = f"{time.time() - int(last) / 1000:.1f} s ago" if last else "never"
    lag = f"{meta['lag_ms']} ms" if "lag_ms" in meta else "-"
    return [watch.name, watch.config.mode, watch.dialect, rows, ago, lag, _unread(watch)]


def _unread(watch: Watch) -> str:
    if watch.config.mode != "push":
        return "-"
    engine = watch.engine()
    try:
        with engine.connect() as connection:
            count, _oldest = changelog.backlog(connection, watch.name)
        return str(count)
    except sa.exc.SQLAlchemyError:
        return "?"
    finally:
        engine.dispose()


@sql.command()
@click.argument("watch")
@click.pass_context
def snapshot(ctx: click.Context, watch: str) -> None:
    """Store WATCH's current rows in Redis as the base of the next diff (announces nothing)."""
    settings = _settings(ctx)
    found = _watch(ctx, watch)
    client = connect(settings.require_redis_url())
    state = found.state(client, settings.workers.namespace, settings.events)
    engine = found.engine()
    try:
        position = state.log_position()
        total = count_rows(engine, found.config)
        with Progress() as progress:
            task = progress.add_task(f"reading {watch}", total=total)
            rows = []
            for row in read_all(engine, found.config):
                rows.append(row)
                if len(rows) % 1000 == 0:
                    progress.update(task, completed=len(rows))
            progress.update(task, completed=len(rows))
        entries = serialise_rows(found.shape, rows)
        state.replace_all(entries, position=position)
    except sa.exc.SQLAlchemyError as exc:
        raise click.ClickException(f"{watch}: {exc}") from None
    finally:
        engine.dispose()
    click.echo(f"{watch}: {len(entries)} rows stored at event-log position {position}")


@sql.command()
@click.argument("trip", type=int)
@click.option("--watch", "watch_name", default=demo.WATCH, show_default=True,
              help="The demo watch whose database holds the trips.")
@click.pass_context
def sell(ctx: click.Context, trip: int, watch_name: str) -> None:
    """Sell one ticket on TRIP in the SQLite trips demo (the seat count falls live)."""
    found = _watch(ctx, watch_name)
    try:
        left = demo.sell(found.url, trip)
    except (demo.SoldOut, sa.exc.SQLAlchemyError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"trip {trip}: sold, {left} seats left")


def main() -> None:
    """``python -m hookstream.commands.sql ...`` until the group is part of ``hookstream``."""
    import types

    from common.settings import load_settings

    sql(obj=types.SimpleNamespace(settings=load_settings()))


if __name__ == "__main__":
    main()

"""What ``hookstream sql`` does, apart from its command line (hookstream/commands/sql.py).

Kept out of the click module so ``hookstream --help`` imports neither SQLAlchemy,
Redis nor rich.
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


def find(settings: Settings, name: str) -> Watch:
    try:
        return find_watch(settings.watches, name)
    except HookstreamError as exc:
        raise click.ClickException(str(exc)) from None


def install(settings: Settings, name: str, *, print_only: bool) -> None:
    run_ddl(find(settings, name), triggers.install_sql, print_only, "installed")


def remove(settings: Settings, name: str, *, print_only: bool) -> None:
    run_ddl(find(settings, name), triggers.remove_sql, print_only, "removed")


def run_ddl(watch: Watch, build: Any, print_only: bool, done: str) -> None:
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


def status(settings: Settings) -> None:
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


def snapshot(settings: Settings, watch: str) -> None:
    found = find(settings, watch)
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


def sell(settings: Settings, trip: int, watch_name: str | None) -> None:
    found = find(settings, watch_name or demo.WATCH)
    try:
        left = demo.sell(found.url, trip)
    except (demo.SoldOut, sa.exc.SQLAlchemyError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"trip {trip}: sold, {left} seats left")

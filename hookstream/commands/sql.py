"""``hookstream sql``: install or remove change triggers, show the watches, store a snapshot.

A standalone `click.Group`; every command reads `Settings` from ``ctx.obj.settings``
and runs `hookstream.commands.sql_tasks`, imported only when a command runs.
"""

from __future__ import annotations

import click


@click.group()
def sql() -> None:
    """SQL change streaming: triggers, status and snapshots of [watches.NAME]."""


@sql.command("install-triggers")
@click.argument("watch")
@click.option("--print", "print_only", is_flag=True, help="Print the SQL instead of running it.")
@click.pass_obj
def install_triggers(obj: object, watch: str, print_only: bool) -> None:
    """Create the change log and WATCH's triggers (idempotent)."""
    from hookstream.commands import sql_tasks

    sql_tasks.install(obj.settings_logged(), watch, print_only=print_only)  # type: ignore[attr-defined]


@sql.command("remove-triggers")
@click.argument("watch")
@click.option("--print", "print_only", is_flag=True, help="Print the SQL instead of running it.")
@click.pass_obj
def remove_triggers(obj: object, watch: str, print_only: bool) -> None:
    """Drop WATCH's triggers and its unread changes (idempotent; the log table stays)."""
    from hookstream.commands import sql_tasks

    sql_tasks.remove(obj.settings_logged(), watch, print_only=print_only)  # type: ignore[attr-defined]


@sql.command()
@click.pass_obj
def status(obj: object) -> None:
    """Each watch: mode, rows kept, last change, lag and unread changes."""
    from hookstream.commands import sql_tasks

    sql_tasks.status(obj.settings_logged())  # type: ignore[attr-defined]


@sql.command()
@click.argument("watch")
@click.pass_obj
def snapshot(obj: object, watch: str) -> None:
    """Store WATCH's current rows in Redis as the base of the next diff (announces nothing)."""
    from hookstream.commands import sql_tasks

    sql_tasks.snapshot(obj.settings_logged(), watch)  # type: ignore[attr-defined]


@sql.command()
@click.argument("trip", type=int)
@click.option("--watch", "watch_name", default=None,
              help="The demo watch whose database holds the trips (default demo-trips).")
@click.pass_obj
def sell(obj: object, trip: int, watch_name: str | None) -> None:
    """Sell one ticket on TRIP in the SQLite trips demo (the seat count falls live)."""
    from hookstream.commands import sql_tasks

    sql_tasks.sell(obj.settings_logged(), trip, watch_name)  # type: ignore[attr-defined]

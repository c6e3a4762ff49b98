"""`hookstream airtable webhooks create|list|refresh|delete`, `airtable sync BASE TABLE`,
`airtable emulator`: the Airtable domain from the command line.

Commands read settings from ``ctx.obj.settings`` (``[airtable]`` api_url and token,
``redis_url``); heavy imports happen inside the commands so ``--help`` stays fast.
The MAC secret of a created webhook is stored in Redis for the ingress verifier
and never printed.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from common.settings import Settings
    from domains.airtable.reconcile import Drift, Reconciler
    from domains.airtable.webhooks import Webhooks

CLI_MAX_WAIT_S = 30.0  # the longest one request waits for a slot of the shared budget


@click.group()
def airtable() -> None:
    """Airtable: webhooks, full table sync, and a local emulator."""


@airtable.group()
def webhooks() -> None:
    """Create, list, refresh or delete the webhooks that feed record events."""


def _settings(obj: Any) -> Settings:
    settings: Settings = obj.settings_logged()
    return settings


def _webhooks(obj: Any, settings: Settings | None = None) -> Webhooks:
    """Webhooks on the budgeted client: the CLI spends the budget the workers share."""
    from common.redis import connect
    from domains.airtable.services import budgeted_api_factory
    from domains.airtable.webhooks import Webhooks

    settings = settings or _settings(obj)
    client = connect(settings.require_redis_url())
    return Webhooks(client, budgeted_api_factory(client, settings, max_wait_s=CLI_MAX_WAIT_S),
                    namespace=settings.workers.namespace)


@contextmanager
def _reported() -> Iterator[None]:
    """Domain and configuration errors as one clear line (exit 1)."""
    from common.errors import HookstreamError
    from domains.airtable.errors import MustWait

    try:
        yield
    except MustWait as exc:
        raise click.ClickException(f"{exc}; try again in {math.ceil(exc.retry_after_s)} s"
                                   ) from None
    except HookstreamError as exc:
        raise click.ClickException(str(exc)) from None


@webhooks.command("create")
@click.argument("base")
@click.option("--url", "notification_url", required=True,
              help="Where Airtable POSTs pings: the ingress's /webhooks/SOURCE URL.")
@click.option("--table", default=None, help="Only this table's changes (its id).")
@click.option("--new", "always_new", is_flag=True,
              help="Create one even if a stored webhook already pings this URL for this scope.")
@click.pass_obj
def create(obj: Any, base: str, notification_url: str, table: str | None,
           always_new: bool) -> None:
    """Create a webhook on BASE and store its MAC secret for the ingress.

    A stored webhook that Airtable still lists with the same scope and URL is
    reused: two would publish every change twice."""
    with _reported():
        manager = _webhooks(obj)
        known = {hook.id for hook in manager.store.all()}
        hook = manager.create(base, notification_url, table=table, reuse=not always_new)
    verb = "reused" if hook.id in known else "created"
    click.echo(f"{verb} {hook.id} (expires {hook.expiration_time}); MAC secret stored")


@webhooks.command("list")
@click.argument("base")
@click.pass_obj
def list_webhooks(obj: Any, base: str) -> None:
    """BASE's webhooks as Airtable lists them (STORED = we hold the secret)."""
    from rich.console import Console
    from rich.table import Column, Table

    with _reported():
        hooks = _webhooks(obj).listing(base)
    if not hooks:
        click.echo("no webhooks")
        return
    table = Table(Column("ID", no_wrap=True), "NOTIFICATION URL",
                  Column("EXPIRES", no_wrap=True), "NEXT CURSOR", "STORED")
    for hook in hooks:
        table.add_row(hook["id"], str(hook.get("notificationUrl") or ""),
                      str(hook.get("expirationTime") or ""),
                      str(hook.get("cursorForNextPayload", "")), "yes" if hook["stored"] else "no")
    Console().print(table)


@webhooks.command("refresh")
@click.argument("base", required=False)
@click.argument("webhook_id", required=False)
@click.option("--all", "everything", is_flag=True, help="Every stored webhook.")
@click.pass_obj
def refresh(obj: Any, base: str | None, webhook_id: str | None, everything: bool) -> None:
    """Extend a webhook (BASE WEBHOOK_ID) or --all stored ones by 7 days."""
    with _reported():
        manager = _webhooks(obj)
        if everything:
            outcomes = manager.refresh_all()
        elif base and webhook_id:
            outcomes = {webhook_id: manager.refresh(base, webhook_id)}
        else:
            raise click.UsageError("give BASE WEBHOOK_ID, or --all")
    for hook_id, outcome in outcomes.items():
        click.echo(f"{hook_id}: " + ("gone (expired or deleted)" if outcome == "gone"
                                      else f"expires {outcome}"))


@webhooks.command("delete")
@click.argument("base")
@click.argument("webhook_id")
@click.pass_obj
def delete(obj: Any, base: str, webhook_id: str) -> None:
    """Delete a webhook on Airtable and forget its secret."""
    with _reported():
        _webhooks(obj).delete(base, webhook_id)
    click.echo(f"deleted {webhook_id}")


@airtable.command("sync")
@click.argument("base")
@click.argument("table")
@click.option("--publish/--no-publish", default=True,
              help="Publish the drift as record events (--no-publish: store a baseline).")
@click.option("--max-wait-s", type=float, default=300.0, show_default=True,
              help="How long to keep waiting out a paused base (a 429) or Airtable down.")
@click.pass_obj
def sync(obj: Any, base: str, table: str, publish: bool, max_wait_s: float) -> None:
    """Read every record of TABLE, publish what changed since the last known state."""
    from common.publishing import EventLog
    from common.redis import connect
    from domains.airtable.reconcile import Reconciler
    from domains.airtable.services import budgeted_api_factory

    settings = _settings(obj)
    with _reported():
        client = connect(settings.require_redis_url())
        reconciler = Reconciler(client, EventLog(client, settings.events),
                                budgeted_api_factory(client, settings, max_wait_s=CLI_MAX_WAIT_S),
                                namespace=settings.workers.namespace)
        drift = _reconcile_patiently(reconciler, base, table, publish=publish,
                                     max_wait_s=max_wait_s)
    click.echo(f"{drift.records} records; drift: {drift.count('created')} created, "
               f"{drift.count('updated')} updated, {drift.count('deleted')} deleted; "
               f"{drift.published} events published")


def _reconcile_patiently(reconciler: Reconciler, base: str, table: str, *, publish: bool,
                         max_wait_s: float) -> Drift:
    """Run the reconciliation with a progress bar; after a `MustWait` (a paused base,
    Airtable down) wait and read again, for up to *max_wait_s* in all."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from domains.airtable.errors import MustWait

    deadline = time.monotonic() + max_wait_s
    while True:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      transient=True) as bar:
            task = bar.add_task(f"reading {table}", total=None)
            try:
                return reconciler.run(base, table, publish=publish,
                                      progress=functools.partial(bar.advance, task))
            except MustWait as exc:  # nothing written before the reads finish: safe to redo
                if time.monotonic() + exc.retry_after_s > deadline:
                    raise
                wait_s, why = exc.retry_after_s, str(exc)
        click.echo(f"{why}; reading again in {math.ceil(wait_s)} s", err=True)
        time.sleep(wait_s)


@airtable.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8090, show_default=True)
@click.option("--seed", default=None, help="A JSON seed file, or 'demo' for the demo base.")
@click.option("--token", "tokens", multiple=True, help="Accepted bearer token (any if none).")
@click.option("--rate-per-s", type=int, default=5, show_default=True,
              help="Requests per base in any sliding second.")
@click.option("--token-rate-per-s", type=int, default=50, show_default=True,
              help="Requests per token in any sliding second, all bases together.")
@click.option("--penalty-s", type=float, default=30.0, show_default=True,
              help="How long a base (or token) answers 429 after going over its rate.")
@click.option("--wire", "wire_url", default=None,
              help="Demo: create a webhook on the demo base pinging this URL "
                   "(the ingress's /webhooks/SOURCE), its secret stored in Redis.")
@click.option("--churn-s", type=float, default=None,
              help="Demo: a person changes the demo base every this many seconds.")
@click.pass_obj
def emulator(obj: Any, host: str, port: int, seed: str | None, tokens: tuple[str, ...],
             rate_per_s: int, token_rate_per_s: int, penalty_s: float, wire_url: str | None,
             churn_s: float | None) -> None:
    """Run a local Airtable-compatible server (real HTTP, in-memory)."""
    from domains.airtable.emulator.server import EmulatorThread, build, serve

    state = build(seed=seed, tokens=frozenset(tokens), rate_per_s=rate_per_s,
                  penalty_s=penalty_s, token_rate_per_s=token_rate_per_s)
    click.echo(f"Airtable emulator on http://{host}:{port} (admin API under /_admin)")
    if wire_url is None and churn_s is None:
        serve(state, host=host, port=port)
        return
    server = EmulatorThread(state, host=host, port=port).start()
    try:
        _demo(obj, server.url, wire_url, churn_s, token=next(iter(tokens), "demo-token"))
    finally:
        server.stop()


def _demo(obj: Any, url: str, wire_url: str | None, churn_s: float | None, *,
          token: str) -> None:
    from domains.airtable.emulator.demo import DEMO_BASE, DEMO_TABLE, churn

    if wire_url is not None:
        settings = _settings(obj)
        airtable = settings.airtable.model_copy(update={"api_url": url})
        if airtable.token is None:
            from pydantic import SecretStr

            airtable = airtable.model_copy(update={"token": SecretStr(token)})
        with _reported():
            hook = _webhooks(obj, settings.model_copy(update={"airtable": airtable})).create(
                DEMO_BASE, wire_url, table=DEMO_TABLE)
        click.echo(f"webhook {hook.id} pings {wire_url}")
    if churn_s is not None:
        churn(url, every_s=churn_s)
    else:
        while True:
            time.sleep(3600)

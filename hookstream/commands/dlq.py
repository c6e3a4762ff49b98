"""`hookstream dlq list|show|replay|purge`: look at and act on the workers' dead letters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from hookstream.commands.context import CliContext
from hookstream.commands.errors import CommandFailed

if TYPE_CHECKING:
    from typing import TypeAlias

    from workers.deadletters import DeadLetter, DeadLetters

    Act: TypeAlias = Callable[[DeadLetters], Callable[[DeadLetter], bool]]

ERROR_CHARS = 60


@click.group()
def dlq() -> None:
    """List, show, replay or purge dead letters (secrets masked)."""


@dlq.command("list")
@click.option("--queue", help="Only this queue.")
@click.pass_obj
def list_letters(obj: CliContext, queue: str | None) -> int:
    """One line per dead letter, oldest first."""
    from hookstream.commands.output import console, table
    from hookstream.dlq import COLUMNS, summary

    with _reported():
        letters = _store(obj).entries(queue=queue, limit=-1)
    out = console()
    if not letters:
        out.print("no dead letters")
        return 0
    out.print(table(COLUMNS, map(summary, letters), max_widths={"ERROR": ERROR_CHARS}))
    return 0


@dlq.command()
@click.argument("letter_id", metavar="ID")
@click.pass_obj
def show(obj: CliContext, letter_id: str) -> int:
    """One dead letter in full.

    ID is its id or a unique prefix (6+ characters).
    """
    from hookstream.dlq import describe

    with _reported():
        click.echo(describe(_store(obj).find(letter_id)))
    return 0


def _action_command(name: str, pick: Act, *, verb: str, past: str) -> click.Command:
    @click.argument("letter_id", metavar="[ID]", required=False)
    @click.option("--all", "every", is_flag=True, help="Every dead letter (of --queue).")
    @click.option("--queue", help="With --all: only this queue.")
    @click.pass_obj
    def action(obj: CliContext, letter_id: str | None, every: bool, queue: str | None) -> int:
        from hookstream.commands.output import progress

        _check_target(letter_id, every=every, queue=queue)
        with _reported():
            store = _store(obj)
            letters = ([store.find(letter_id)] if letter_id is not None
                       else store.entries(queue=queue, limit=-1))
            act = pick(store)
            done = sum(act(letter) for letter in progress(letters, f"{past}…"))
        click.echo(f"{past} {done} dead letter(s)")
        return 0

    action.__doc__ = f"{verb}.\n\nOne dead letter (ID or a unique prefix), or --all."
    return click.command(name)(action)


dlq.add_command(_action_command("replay", lambda store: store.replay,
                                verb="Put dead letters back on their queue", past="replayed"))
dlq.add_command(_action_command("purge", lambda store: store.purge,
                                verb="Delete dead letters for good", past="purged"))


def _check_target(letter_id: str | None, *, every: bool, queue: str | None) -> None:
    if every == (letter_id is not None):
        raise click.UsageError("give an id or --all (not both)")
    if queue is not None and not every:
        raise click.UsageError("--queue goes with --all")


def _store(obj: CliContext) -> DeadLetters:
    from common.redis import connect
    from workers.deadletters import DeadLetters

    settings = obj.settings
    workers = settings.workers
    return DeadLetters(connect(settings.require_redis_url()), workers.namespace,
                       workers.queues)


@contextmanager
def _reported() -> Iterator[None]:
    """A dead letter or queue that is not there, or Redis down: exit 1, not a traceback."""
    import redis

    from workers.errors import DeadLetterNotFound

    try:
        yield
    except DeadLetterNotFound as exc:
        raise CommandFailed(str(exc), command="hookstream dlq") from exc
    except redis.ConnectionError as exc:
        raise CommandFailed(f"could not reach Redis: {exc}", command="hookstream dlq") from exc

"""`hookstream scheduler`: the periodic-job scheduler (a Redis lease keeps it single)."""

from __future__ import annotations

import click

from hookstream.commands.context import CliContext


@click.command()
@click.pass_obj
def scheduler(obj: CliContext) -> int:
    """Run the periodic-job scheduler.

    Several may run: a Redis lease lets one fire at a time, the others stand by.
    """
    obj.settings  # noqa: B018 - a bad configuration stops here, with exit 2
    if not obj.env_is_inherited:
        _exec_with(obj)
    from workers.scheduler import main as run_scheduler

    return run_scheduler()


def _exec_with(obj: CliContext) -> None:
    """Become a scheduler process started with `obj.env`.

    The scheduler's broker module reads its settings from its own process
    environment; rather than writing to ``os.environ``, this process is replaced
    (same pid, same signals) by one started with the environment it needs.
    """
    import os
    import sys

    from hookstream.processes import scheduler as scheduler_argv

    argv = scheduler_argv()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(argv[0], argv, obj.env)  # noqa: S606 - our own interpreter, argv as a list

"""`hookstream worker`: supervised dramatiq worker processes."""

from __future__ import annotations

import click

from hookstream.commands.context import CliContext

DEFAULT_MODULES = ("workers.actors",)


@click.command()
@click.option("--processes", "-p", type=click.IntRange(min=1), default=2, show_default=True,
              help="Worker processes.")
@click.option("--threads", "-t", type=click.IntRange(min=1), default=4, show_default=True,
              help="Threads per process.")
@click.option("--shutdown-timeout-s", type=click.FloatRange(min=0), default=30.0,
              show_default=True, help="How long running jobs may take to finish on SIGTERM.")
@click.argument("modules", nargs=-1)
@click.pass_obj
def worker(obj: CliContext, processes: int, threads: int, shutdown_timeout_s: float,
           modules: tuple[str, ...]) -> int:
    """Run supervised dramatiq worker processes.

    Each process runs the actor MODULES (default: workers.actors); a dead one is
    restarted alone, SIGTERM stops them all gracefully.
    """
    from hookstream.workerpool import run_workers

    return run_workers(obj.settings, env=obj.env, processes=processes, threads=threads,
                       modules=modules or DEFAULT_MODULES,
                       shutdown_timeout_s=shutdown_timeout_s)

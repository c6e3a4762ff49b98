"""The `hookstream` command line (click): one module per command or command group.

``hookstream [--config FILE] COMMAND ...``; every command and group has ``--help``.
Bad input is a usage error (exit 2); a bad configuration prints
``hookstream: <what and how to fix it>`` (exit 2); other failures exit 1.

Each command takes the `CliContext` (``@click.pass_obj``) and reads its settings
as ``obj.settings``, loaded once on first use; nothing writes to ``os.environ``
(a child process gets ``obj.env``). Command modules import only click and
`hookstream.commands.context` at the top, and whatever they run (workers, Redis,
rich, HTTP clients) inside the command, so ``hookstream --help`` stays fast and
never connects anywhere.

Adding a command group is one line in `COMMANDS` below: write
``hookstream/commands/NAME.py`` holding a ``click.Group`` (say ``airtable``) whose
commands use ``@click.pass_obj`` and ``obj.settings``, then register it as
``"airtable": "hookstream.commands.airtable:airtable",``. Modules are imported
only when their command runs or help lists it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from common.errors import ConfigError
from hookstream.commands.context import CliContext
from hookstream.commands.errors import PROG_NAME, BadConfiguration

COMMANDS: dict[str, str] = {
    "check-config": "hookstream.commands.config:check_config",
    "dev": "hookstream.commands.dev:dev",
    "dlq": "hookstream.commands.dlq:dlq",
    "scheduler": "hookstream.commands.scheduler:scheduler",
    "send": "hookstream.commands.send:send",
    "worker": "hookstream.commands.worker:worker",
    "airtable": "hookstream.commands.airtable:airtable",
    "sql": "hookstream.commands.sql:sql",
}


class Hookstream(click.Group):
    """The root group: commands from `COMMANDS`, loaded on use; a bad config is exit 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = COMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise BadConfiguration(str(exc)) from exc


@click.group(cls=Hookstream, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The config file (default: $HOOKSTREAM_CONFIG, else .hookstream/dev.toml "
                   "when `hookstream dev` wrote one here).")
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """hookstream: run everything locally, send signed webhooks, operate workers."""
    inherited = ctx.obj.inherited if isinstance(ctx.obj, CliContext) else os.environ
    ctx.obj = CliContext(inherited, config=config)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: run one command and return its exit code."""
    try:
        result = cli.main(args=argv, prog_name=PROG_NAME, standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted!", err=True)
        return 1
    return result if isinstance(result, int) else 0

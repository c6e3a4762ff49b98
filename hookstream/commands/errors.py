"""Errors of the command line, and how they end the process.

click.ClickException
 ├── click.UsageError      bad input: the usage, the problem, exit 2 (click's own)
 └── CommandFailed         the command could not do its job: ``hookstream: why``, exit 1
      └── BadConfiguration  the configuration cannot work (a `ConfigError`), exit 2
"""

from __future__ import annotations

from typing import IO, Any

import click

PROG_NAME = "hookstream"


class CommandFailed(click.ClickException):
    """A failure that is not a typing mistake: printed as ``<command path>: message``."""

    def __init__(self, message: str, *, command: str = PROG_NAME) -> None:
        super().__init__(message)
        self.command = command

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"{self.command}: {self.format_message()}", file=file, err=file is None)


class BadConfiguration(CommandFailed):
    """The configuration cannot work; the message names the key and how to set it."""

    exit_code = 2

"""Terminal output shared by the commands: rich consoles, tables and progress.

On a terminal rich sizes tables to the window; piped (``| grep``, tests) lines
are never wrapped or cut, so each row stays one line that scripts can split.
Cell text is never read as rich markup: error messages hold ``[...]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from rich.console import Console
from rich.progress import track
from rich.table import Table
from rich.text import Text

PIPED_WIDTH = 10_000
T = TypeVar("T")


def console(*, stderr: bool = False) -> Console:
    """A console on the current stdout (or stderr), resolved at each call."""
    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal:
        out.width = PIPED_WIDTH
    return out


def table(columns: Sequence[str], rows: Iterable[Sequence[str]], *,
          max_widths: dict[str, int] | None = None) -> Table:
    """A borderless table: a header line, then one line per row."""
    widths = max_widths or {}
    grid = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        grid.add_column(column, no_wrap=True, max_width=widths.get(column), overflow="ellipsis")
    for row in rows:
        grid.add_row(*(Text(cell) for cell in row))
    return grid


def progress(items: Sequence[T], description: str) -> Iterable[T]:
    """*items*, with a progress bar on stderr while a terminal watches."""
    out = console(stderr=True)
    return track(items, description=description, console=out, transient=True,
                 disable=not out.is_terminal)

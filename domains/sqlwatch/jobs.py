"""The seam through which the reader asks a worker to diff a watch."""

from __future__ import annotations

from typing import Any, Protocol

DIFF_ACTOR = "diff_sql_watch"


class JobSender(Protocol):
    def send(self, queue: str, actor_name: str, args: list[Any],
             kwargs: dict[str, Any] | None = None) -> str: ...


class MemoryJobs:
    """A `JobSender` that records what was sent (tests run the jobs by hand)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[Any], dict[str, Any]]] = []

    def send(self, queue: str, actor_name: str, args: list[Any],
             kwargs: dict[str, Any] | None = None) -> str:
        self.sent.append((queue, actor_name, list(args), dict(kwargs or {})))
        return str(len(self.sent))

"""How the Airtable domain enqueues its jobs: the `JobSender` seam.

The ingress must not import the workers, so write jobs go on the queue through
`common.jobs.JobSender` (dramatiq's message bytes, the shared enqueue script, no
broker), here `RedisJobSender`. `MemorySender` is the fake beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from common.jobs import JobSender as RedisJobSender

__all__ = ["JobSender", "MemorySender", "RedisJobSender"]


class JobSender(Protocol):
    def send(self, queue: str, actor_name: str, args: Sequence[Any],
             kwargs: Mapping[str, Any] | None = None) -> str:
        """Put a job on *queue* for *actor_name*; its message id once it is in Redis."""
        ...


class MemorySender:
    """The fake: remembers what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[Any], dict[str, Any]]] = []

    def send(self, queue: str, actor_name: str, args: Sequence[Any],
             kwargs: Mapping[str, Any] | None = None) -> str:
        self.sent.append((queue, actor_name, list(args), dict(kwargs or {})))
        return f"memory-{len(self.sent)}"

"""Enqueue a dramatiq job without the broker: the `JobSender` seam and its Redis sender.

The ingress must not import the workers, so it writes dramatiq's message
format itself (as api/jobs.py does for deliveries): a `dramatiq.Message`
encoded like `dramatiq.JSONEncoder`, put on the queue by the one enqueue
function of common/queueing.py (message hash, queue list, wake token) in one
Lua call. `common/jobs.py` (house clean-up) will offer the same; `JobSender`
is the seam it plugs into. `MemorySender` is the fake beside it.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import dramatiq
import redis

from common.queueing import (
    ENQUEUE_JOB_LUA,
    WAKE_MAX_TOKENS,
    messages_key,
    queue_key,
    wake_key,
)

_ENCODER = json.JSONEncoder(separators=(",", ":"))  # what dramatiq.JSONEncoder uses

SEND_LUA = ENQUEUE_JOB_LUA + """
enqueue_job(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], tonumber(ARGV[3]))
return 1
"""


class JobSender(Protocol):
    def send(self, queue: str, actor_name: str, args: list[Any],
             kwargs: dict[str, Any] | None = None) -> str:
        """Put a job on *queue* for *actor_name*; its message id once it is in Redis."""
        ...


def encode_message(queue: str, actor_name: str, args: list[Any],
                   kwargs: dict[str, Any] | None = None) -> tuple[str, bytes]:
    """The message id and the bytes dramatiq's RedisBroker would store for this job."""
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=queue, actor_name=actor_name, args=tuple(args), kwargs=kwargs or {},
        options={})
    message.options["redis_message_id"] = message.message_id
    return message.message_id, _ENCODER.encode(message.asdict()).encode()


class RedisJobSender:
    """Enqueues into dramatiq's Redis queues under *namespace*."""

    def __init__(self, client: redis.Redis, *, namespace: str) -> None:
        self._script = client.register_script(SEND_LUA)
        self._namespace = namespace

    def send(self, queue: str, actor_name: str, args: list[Any],
             kwargs: dict[str, Any] | None = None) -> str:
        message_id, data = encode_message(queue, actor_name, args, kwargs)
        self._script(keys=[queue_key(self._namespace, queue),
                           messages_key(self._namespace, queue),
                           wake_key(self._namespace, queue)],
                     args=[message_id, data, WAKE_MAX_TOKENS])
        return message_id


class MemorySender:
    """The fake: remembers what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[Any], dict[str, Any]]] = []

    def send(self, queue: str, actor_name: str, args: list[Any],
             kwargs: dict[str, Any] | None = None) -> str:
        self.sent.append((queue, actor_name, list(args), dict(kwargs or {})))
        return f"memory-{len(self.sent)}"

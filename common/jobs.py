"""Dramatiq jobs sent without a broker: dramatiq's exact message bytes, enqueued by one script.

Anything may put work on a worker queue without importing the dramatiq broker
(which reads the environment, configures logging and opens pools): the
ingress, the scheduler, the CLI, the coming domains. `encode_job` writes what
dramatiq's own `RedisBroker.enqueue` writes: a `dramatiq.Message` carrying a
``redis_message_id`` option, JSON-encoded the way `dramatiq.JSONEncoder` does
(compact separators, ASCII escapes; tests/unit/common/test_jobs.py checks the
bytes against ``Message.encode()``). When every string is ASCII and every value
a plain scalar, orjson writes the very same bytes several times faster, so it
takes that common case, filling the fields in `Message.asdict()`'s order with
dramatiq's own id and clock helpers.

The message's own id doubles as the Redis id on this first enqueue: both are
fresh uuid4 strings, and a retry by dramatiq re-enqueues under a new Redis id.

`JobSender` runs the shared enqueue script (`common.queueing.ENQUEUE_LUA`:
HSET the message, RPUSH its id, push a wake token), so idle dramatiq workers
pick the job up at once. The ingress keeps its own async admission script and
only builds its bytes here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dramatiq
import orjson
import redis
from dramatiq.common import current_millis
from dramatiq.message import generate_unique_id

from common.keys import messages_key, queue_key, wake_key
from common.queueing import ENQUEUE_LUA, WAKE_MAX_TOKENS

_ENCODER = json.JSONEncoder(separators=(",", ":"))  # what dramatiq.JSONEncoder uses
_I64_MIN, _U64_END = -(2**63), 2**64  # orjson's integer range


@dataclass(frozen=True, slots=True)
class Job:
    redis_message_id: str
    data: bytes


def job_message(queue_name: str, actor_name: str, args: Sequence[Any],
                kwargs: Mapping[str, Any] | None = None, *,
                message_id: str | None = None) -> dramatiq.Message[Any]:
    """The `dramatiq.Message` dramatiq's broker would enqueue for these arguments."""
    message_id = message_id or generate_unique_id()
    return dramatiq.Message(
        queue_name=queue_name, actor_name=actor_name, args=tuple(args), kwargs=dict(kwargs or {}),
        options={"redis_message_id": message_id}, message_id=message_id)


def encode_job(queue_name: str, actor_name: str, args: Sequence[Any],
               kwargs: Mapping[str, Any] | None = None, *,
               message_id: str | None = None) -> Job:
    """The bytes of a job, exactly as dramatiq encodes them, and its Redis message id."""
    if not _orjson_exact(args, kwargs):
        message = job_message(queue_name, actor_name, args, kwargs, message_id=message_id)
        return Job(message.message_id, _ENCODER.encode(message.asdict()).encode())
    message_id = message_id or generate_unique_id()
    fields = {"queue_name": queue_name, "actor_name": actor_name, "args": args,
              "kwargs": kwargs or {}, "options": {"redis_message_id": message_id},
              "message_id": message_id, "message_timestamp": current_millis()}
    return Job(message_id, orjson.dumps(fields))


def _orjson_exact(args: Sequence[Any], kwargs: Mapping[str, Any] | None) -> bool:
    """True when orjson writes these as dramatiq's encoder would (no floats, no non-ASCII)."""
    for value in args:
        if not _plain(value):
            return False
    if kwargs:
        for name, value in kwargs.items():
            if not (isinstance(name, str) and name.isascii() and _plain(value)):
                return False
    return True


def _plain(value: Any) -> bool:
    if isinstance(value, str):
        return value.isascii()
    if isinstance(value, int):
        return _I64_MIN <= value < _U64_END
    return value is None


class JobSender:
    """Enqueues dramatiq jobs through a plain Redis client (no broker, no dramatiq globals)."""

    def __init__(self, client: redis.Redis, *, namespace: str) -> None:
        self._namespace = namespace
        self._enqueue = client.register_script(ENQUEUE_LUA)

    def send(self, queue: str, actor_name: str, args: Sequence[Any],
             kwargs: Mapping[str, Any] | None = None, *, message_id: str | None = None) -> str:
        """Enqueue one job for *actor_name* on *queue*; returns its message id."""
        job = encode_job(queue, actor_name, args, kwargs, message_id=message_id)
        ns = self._namespace
        self._enqueue(keys=[queue_key(ns, queue), messages_key(ns, queue), wake_key(ns, queue)],
                      args=[job.redis_message_id, job.data, WAKE_MAX_TOKENS])
        return job.redis_message_id

"""Dramatiq's message format for a delivery job, built without a broker.

The ingress writes jobs straight into dramatiq's Redis queue (api/intake.py),
so the bytes must be what dramatiq's own `RedisBroker.enqueue` writes: a
`dramatiq.Message` for the ``process_delivery`` actor carrying a
``redis_message_id`` option, JSON-encoded the way `dramatiq.JSONEncoder` does
(compact separators, ASCII escapes; tests/unit/api/test_jobs.py checks the bytes
against ``Message.encode()``). For an all-ASCII body orjson writes the very same
bytes several times faster, so it takes that common case, filling the fields
in `Message.asdict()`'s order with dramatiq's own id and clock helpers.

The message's own id doubles as the Redis id on this first enqueue: both are
fresh uuid4 strings, and a retry by dramatiq re-enqueues under a new Redis id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import dramatiq
import orjson
from dramatiq.common import current_millis
from dramatiq.message import generate_unique_id

from api.queue import Delivery

ACTOR_NAME = "process_delivery"
_ENCODER = json.JSONEncoder(separators=(",", ":"))  # what dramatiq.JSONEncoder uses


@dataclass(frozen=True, slots=True)
class Job:
    redis_message_id: str
    data: bytes


def job_message(queue_name: str, delivery: Delivery) -> dramatiq.Message[Any]:
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=queue_name, actor_name=ACTOR_NAME, args=delivery.job_args(), kwargs={},
        options={})
    message.options["redis_message_id"] = message.message_id
    return message


def encode_job(queue_name: str, delivery: Delivery) -> Job:
    if not delivery.body.isascii():
        message = job_message(queue_name, delivery)
        return Job(message.message_id, _ENCODER.encode(message.asdict()).encode())
    message_id = generate_unique_id()
    fields = {"queue_name": queue_name, "actor_name": ACTOR_NAME, "args": delivery.job_args(),
              "kwargs": {}, "options": {"redis_message_id": message_id},
              "message_id": message_id, "message_timestamp": current_millis()}
    return Job(message_id, orjson.dumps(fields))

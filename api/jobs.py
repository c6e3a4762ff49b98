"""Dramatiq's message format for a delivery job, built without a broker.

The ingress writes jobs straight into dramatiq's Redis queue (api/intake.py),
so the bytes must be exactly what dramatiq's own `RedisBroker.enqueue` writes:
a `dramatiq.Message` for the ``process_delivery`` actor with a fresh
``redis_message_id`` option, encoded by dramatiq's configured encoder.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import dramatiq

from api.queue import Delivery

ACTOR_NAME = "process_delivery"


@dataclass(frozen=True, slots=True)
class Job:
    redis_message_id: str
    data: bytes


def encode_job(queue_name: str, delivery: Delivery) -> Job:
    redis_message_id = str(uuid.uuid4())
    message: dramatiq.Message[Any] = dramatiq.Message(queue_name=queue_name, actor_name=ACTOR_NAME,
                               args=delivery.job_args(), kwargs={},
                               options={"redis_message_id": redis_message_id})
    return Job(redis_message_id, message.encode())

"""Redis key names of dramatiq's Redis broker that hookstream reads and writes directly.

The queue, message and wake-up keys are in `common.queueing` (shared with the
ingress); these are the broker-internal ones: per-worker ack sets, the heartbeat
sorted set, the dead-letter queue (``XQ``) and a private interrupt list per consumer.
"""

from __future__ import annotations

from dramatiq.common import xq_name


def acks_key(namespace: str, worker_id: str, queue: str) -> str:
    return f"{namespace}:__acks__.{worker_id}.{queue}"


def heartbeats_key(namespace: str) -> str:
    return f"{namespace}:__heartbeats__"


def dead_letters_key(namespace: str, queue: str) -> str:
    """Delayed messages (``deliveries.DQ``) dead-letter on their own queue's ``XQ``."""
    return f"{namespace}:{xq_name(queue)}"


def dead_letter_messages_key(namespace: str, queue: str) -> str:
    return f"{dead_letters_key(namespace, queue)}.msgs"


def interrupt_key(namespace: str, worker_id: str, queue: str) -> str:
    """A list only this consumer blocks on, so shutdown can wake it without waking others."""
    return f"{namespace}:__wake__.{worker_id}.{queue}"


def schedule_key(namespace: str) -> str:
    return f"{namespace}:__schedule__"


def scheduler_lock_key(namespace: str) -> str:
    return f"{namespace}:__scheduler__"

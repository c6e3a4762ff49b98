"""Key names of the dramatiq Redis queues, shared by every writer and reader.

dramatiq's RedisBroker stores a queue as a list of message ids
(``<ns>:<queue>``) and a hash of id -> encoded message (``<ns>:<queue>.msgs``).
hookstream adds a wake-up list (``<ns>:<queue>.wake``): every enqueue, by the
broker or by the ingress's own atomic enqueue script, RPUSHes a token to it and
trims it to `WAKE_MAX_TOKENS`; idle consumers block on it instead of polling.
"""

from __future__ import annotations

WAKE_MAX_TOKENS = 1_000


def queue_key(namespace: str, queue: str) -> str:
    return f"{namespace}:{queue}"


def messages_key(namespace: str, queue: str) -> str:
    return f"{namespace}:{queue}.msgs"


def wake_key(namespace: str, queue: str) -> str:
    return f"{namespace}:{queue}.wake"

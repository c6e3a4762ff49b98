"""Every Redis key name hookstream reads or writes, built here and nowhere else.

All of them live under the configured namespace (``settings.workers.namespace``,
default ``hookstream``), through `_key`; giving keys a cluster hash tag later
(``<ns>:{<queue>}...``, so a script's keys share a slot) is a change to the
builders here, since every Lua script receives its keys through ``KEYS``.

- dramatiq's queues (written by the ingress, the broker and `common.jobs`):
  ``<ns>:<queue>`` (list of ids), ``<ns>:<queue>.msgs`` (id -> message),
  ``<ns>:<queue>.wake`` (wake-up tokens, hookstream's own);
- the broker's internals (`workers.brokers.redis`): per-worker ack sets, the index
  of the queues each worker fetched from (so the janitor knows which ack sets a
  dead worker left, without scanning the keyspace), the heartbeat sorted set,
  dead letters (dramatiq's ``XQ``), per-consumer interrupt lists, the
  scheduler's schedule and lease;
- the ingress's: delivery ids seen, per-source counters and rate windows.

The event log's stream is a setting of its own (``events.stream_key``, hash-tagged
``hookstream:{events}:log`` by default); its dedupe keys derive from it here.
"""

from __future__ import annotations

import hashlib

from dramatiq.common import xq_name

MAX_ID_CHARS = 200


def _key(namespace: str, name: str) -> str:
    return f"{namespace}:{name}"


# dramatiq's queues


def queue_key(namespace: str, queue: str) -> str:
    return _key(namespace, queue)


def messages_key(namespace: str, queue: str) -> str:
    return _key(namespace, f"{queue}.msgs")


def wake_key(namespace: str, queue: str) -> str:
    return _key(namespace, f"{queue}.wake")


# the broker's internals


def acks_key(namespace: str, worker_id: str, queue: str) -> str:
    return _key(namespace, f"__acks__.{worker_id}.{queue}")


def worker_queues_key(namespace: str, worker_id: str) -> str:
    """The queues a worker has fetched from: where its ack sets are (the janitor's index)."""
    return _key(namespace, f"__queues__.{worker_id}")


def heartbeats_key(namespace: str) -> str:
    return _key(namespace, "__heartbeats__")


def dead_letters_key(namespace: str, queue: str) -> str:
    """Delayed messages (``deliveries.DQ``) dead-letter on their own queue's ``XQ``."""
    return _key(namespace, xq_name(queue))


def dead_letter_messages_key(namespace: str, queue: str) -> str:
    return _key(namespace, f"{xq_name(queue)}.msgs")


def interrupt_key(namespace: str, worker_id: str, queue: str) -> str:
    """A list only this consumer blocks on, so shutdown can wake it without waking others."""
    return _key(namespace, f"__wake__.{worker_id}.{queue}")


def schedule_key(namespace: str) -> str:
    return _key(namespace, "__schedule__")


def scheduler_lock_key(namespace: str) -> str:
    return _key(namespace, "__scheduler__")


# the ingress's


def seen_key(namespace: str, source: str, delivery_id: str) -> str:
    """Remembers a delivery id for the dedupe window; long ids are hashed to bound the key."""
    if len(delivery_id) > MAX_ID_CHARS:
        delivery_id = "sha256-" + hashlib.sha256(delivery_id.encode()).hexdigest()
    return _key(namespace, f"ingress:seen:{source}:{delivery_id}")


def stats_key(namespace: str, source: str) -> str:
    return _key(namespace, f"ingress:stats:{source}")


def rate_key(namespace: str, source: str) -> str:
    return _key(namespace, f"ingress:rate:{source}")


# the event log's


def event_seen_key(stream_key: str, event_id: str) -> str:
    """Marks an event id already appended to the stream *stream_key* (same hash tag)."""
    return f"{stream_key}:seen:{event_id}"


# replica confirmation (`common.replicas`)


def replica_probe_key(namespace: str) -> str:
    """STRING written just before a WAIT, so the WAIT covers every earlier write."""
    return _key(namespace, "replica-probe")

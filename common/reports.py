"""Per-process figures for the operator dashboard, reported through Redis.

Any process (a streamer, an ingress or worker process, a domain's reader) may
report a flat JSON object of figures under a *kind* ("streamer", "airtable",
"sqlwatch", ...), about once a second:

- ``<ns>:dashboard:<kind>:<process id>``: the figures, expiring after
  `STALE_AFTER_S`;
- ``<ns>:dashboard:<kind>:live``: sorted set of process ids by last report;
- ``<ns>:dashboard:kinds``: the set of kinds ever reported (a handful).

The dashboard (``streamer.dashboard``) reads them back without scanning: the
kinds, then each kind's live ids, then one ``MGET``.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any, Protocol

import orjson
import redis

STALE_AFTER_S = 5.0


def kinds_key(namespace: str) -> str:
    return f"{namespace}:dashboard:kinds"


def live_key(namespace: str, kind: str) -> str:
    return f"{namespace}:dashboard:{kind}:live"


def report_key(namespace: str, kind: str, process_id: str) -> str:
    return f"{namespace}:dashboard:{kind}:{process_id}"


def new_process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Pipeline(Protocol):
    """What both redis-py pipelines (blocking and asyncio) offer for queuing commands."""

    def set(self, name: str, value: bytes, *, px: int) -> Any: ...
    def zadd(self, name: str, mapping: dict[str, float]) -> Any: ...
    def sadd(self, name: str, *values: str) -> Any: ...


def queue_report(pipe: Pipeline, namespace: str, kind: str, process_id: str,
                 figures: dict[str, Any], *, now_s: float) -> None:
    """Queue the three writes of one report on *pipe* (execute it yourself)."""
    pipe.set(report_key(namespace, kind, process_id), orjson.dumps(figures),
             px=int(STALE_AFTER_S * 1000))
    pipe.zadd(live_key(namespace, kind), {process_id: now_s})
    pipe.sadd(kinds_key(namespace), kind)


def report(client: redis.Redis, namespace: str, kind: str, process_id: str,
           figures: dict[str, Any], *, now_s: float) -> None:
    """One report from a blocking client (ingress, workers, domain readers)."""
    with client.pipeline(transaction=False) as pipe:
        queue_report(pipe, namespace, kind, process_id, figures, now_s=now_s)
        pipe.execute()

"""What the Airtable domain did, across every process: read from the shared stats hash.

The budget counts ``granted:<base>`` (slots taken), ``held:<base>`` (sends held
back a few ms so no second of actual sends holds too many), ``busy:<base>`` (no
slot within the caller's wait) and ``paused_waits:<base>`` (requests held back by
a pause); the client counts ``throttled:<base>`` (429s) and ``pauses:<base>``
(pauses started); the cache counts ``cache_hits`` and ``cache_misses``.
"""

from __future__ import annotations

from typing import Any

import redis

from common.redis import text
from domains.airtable import keys

PER_BASE = ("granted", "held", "busy", "throttled", "pauses", "paused_waits")


def read_stats(client: redis.Redis, namespace: str) -> dict[str, Any]:
    raw = {text(k): int(v) for k, v in client.hgetall(keys.stats_key(namespace)).items()}
    bases: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        counter, _, base = name.partition(":")
        if counter in PER_BASE and base:
            bases.setdefault(base, dict.fromkeys(PER_BASE, 0))[counter] = value
    for base, counts in bases.items():
        remaining_ms = int(client.pttl(keys.base_pause_key(namespace, base)))
        counts["paused_for_s"] = max(0, remaining_ms) / 1000
    return {"cache": {"hits": raw.get("cache_hits", 0), "misses": raw.get("cache_misses", 0)},
            "bases": dict(sorted(bases.items()))}

"""Redis key names the ingress owns (the dramatiq queue keys live in common/queueing.py)."""

from __future__ import annotations

import hashlib

PREFIX = "hookstream:ingress"
MAX_ID_CHARS = 200


def seen_key(source: str, delivery_id: str) -> str:
    """Remembers a delivery id for the dedupe window; long ids are hashed to bound the key."""
    if len(delivery_id) > MAX_ID_CHARS:
        delivery_id = "sha256-" + hashlib.sha256(delivery_id.encode()).hexdigest()
    return f"{PREFIX}:seen:{source}:{delivery_id}"


def stats_key(source: str) -> str:
    return f"{PREFIX}:stats:{source}"


def rate_key(source: str) -> str:
    return f"{PREFIX}:rate:{source}"

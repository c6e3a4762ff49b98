"""Housekeeping done by periodic actors: plain functions, tested directly."""

from __future__ import annotations

import time

import redis

from common.settings import EventLogSettings


def trim_event_log(client: redis.Redis, settings: EventLogSettings) -> int:
    """Enforce the event log's age and length limits even when nothing is being appended."""
    cutoff_ms = int(time.time() * 1000) - settings.max_age_s * 1000
    by_age = client.xtrim(settings.stream_key, minid=cutoff_ms)
    by_length = client.xtrim(settings.stream_key, maxlen=settings.max_len, approximate=True)
    return int(by_age) + int(by_length)

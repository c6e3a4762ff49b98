"""The janitor: deterministic recovery of a dead worker's messages, run by the scheduler.

A worker process heartbeats every ``heartbeat_interval_s``. Each sweep (every
``[workers.schedule] janitor`` seconds, from the one scheduler holding the
lock) takes every worker silent for longer than ``heartbeat_timeout_s`` for
dead, puts the messages it had fetched but not acknowledged back on their
queues with wake tokens, and forgets it; it also drops dead letters older than
``dead_letter_ttl_s``. This replaces dramatiq's maintenance lottery (a 0.1 %
chance per broker call, after a 60 s timeout).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis
import structlog
from dramatiq.common import current_millis, q_name

from common.queueing import WAKE_MAX_TOKENS
from common.settings import WorkerSettings
from workers.brokers.redis import keys, scripts

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Sweep:
    dead_workers: int
    requeued: int


class Janitor:
    def __init__(self, client: redis.Redis, settings: WorkerSettings,
                 queues: Sequence[str]) -> None:
        self._client = client
        self._settings = settings
        self._queues = sorted({q_name(queue) for queue in queues})
        self._reap = client.register_script(scripts.REAP)

    def sweep(self) -> Sweep:
        settings = self._settings
        dead, requeued = self._reap(
            keys=[keys.heartbeats_key(settings.namespace)],
            args=[settings.namespace, current_millis(), int(settings.heartbeat_timeout_s * 1000),
                  settings.dead_letter_ttl_s * 1000, WAKE_MAX_TOKENS, *self._queues])
        result = Sweep(dead_workers=int(dead), requeued=int(requeued))
        if result.dead_workers:
            log.warning("janitor.reaped", dead_workers=result.dead_workers,
                        requeued=result.requeued)
        return result

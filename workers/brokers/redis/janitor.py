"""The janitor: deterministic recovery of a dead worker's messages, run by the scheduler.

A worker process heartbeats every ``heartbeat_interval_s``. Each sweep (every
``[workers.schedule] janitor`` seconds, from the one scheduler holding the
lock) takes every worker silent for longer than ``heartbeat_timeout_s`` for
dead, puts the messages it had fetched but not acknowledged back on their
queues with wake tokens, and forgets it; it also drops dead letters older than
``dead_letter_ttl_s``. This replaces dramatiq's maintenance lottery (a 0.1 %
chance per broker call, after a 60 s timeout).

One script call per sweep in the steady state (`scripts.SWEEP`: expire dead
letters, list silent workers). It never scans the keyspace: every fetch
records its queue in the worker's index (`common.keys.worker_queues_key`), so
the janitor reads which ack sets a dead worker left and hands exactly those
keys to `scripts.REAP` (with the configured queues and their delay queues
too, for ack sets from before the index). The script checks the heartbeat
again, so a worker that beat since the janitor looked is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import redis
import structlog
from dramatiq.common import current_millis, dq_name, q_name

from common import keys
from common.queueing import WAKE_MAX_TOKENS
from common.redis import text
from common.settings import WorkerSettings
from workers.brokers.redis import scripts

log = structlog.get_logger(__name__)
MAX_DEAD_PER_SWEEP = 100
ALIVE = -1


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
        self._usual = [*self._queues, *(dq_name(queue) for queue in self._queues)]
        self._reap = client.register_script(scripts.REAP)
        self._sweep = client.register_script(scripts.SWEEP)
        ns = settings.namespace
        self._sweep_keys = [keys.heartbeats_key(ns)]
        for queue in self._queues:
            self._sweep_keys += [keys.dead_letters_key(ns, queue),
                                 keys.dead_letter_messages_key(ns, queue)]

    def sweep(self) -> Sweep:
        now_ms = current_millis()
        dead = requeued = 0
        for worker, queues in self._silent_workers(now_ms).items():
            moved = int(self._reap(keys=self._reap_keys(worker, queues),
                                   args=[worker, self._cutoff_ms(now_ms), WAKE_MAX_TOKENS]))
            if moved != ALIVE:
                dead, requeued = dead + 1, requeued + moved
        result = Sweep(dead_workers=dead, requeued=requeued)
        if result.dead_workers:
            log.warning("janitor.reaped", dead_workers=result.dead_workers,
                        requeued=result.requeued)
        return result

    def _cutoff_ms(self, now_ms: int) -> int:
        return now_ms - int(self._settings.heartbeat_timeout_s * 1000)

    def _silent_workers(self, now_ms: int) -> dict[str, list[str]]:
        """Drop expired dead letters; each worker silent past the timeout, with its queues."""
        settings = self._settings
        silent = cast(list[bytes], self._sweep(
            keys=self._sweep_keys,
            args=[self._cutoff_ms(now_ms), now_ms - settings.dead_letter_ttl_s * 1000,
                  MAX_DEAD_PER_SWEEP]))
        workers = [text(worker) for worker in silent]
        if not workers:
            return {}
        with self._client.pipeline(transaction=False) as pipe:
            for worker in workers:
                pipe.smembers(keys.worker_queues_key(settings.namespace, worker))
            indexed = pipe.execute()
        return {worker: sorted({*self._usual, *(text(queue) for queue in queues)})
                for worker, queues in zip(workers, indexed, strict=True)}

    def _reap_keys(self, worker: str, queues: Sequence[str]) -> list[str]:
        ns = self._settings.namespace
        found = [keys.heartbeats_key(ns), keys.worker_queues_key(ns, worker)]
        for queue in queues:
            found += [keys.acks_key(ns, worker, queue), keys.queue_key(ns, queue),
                      keys.messages_key(ns, queue), keys.wake_key(ns, queue)]
        return found

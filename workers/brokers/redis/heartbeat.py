"""The heartbeat of a worker process: proof of life while its consumers sleep on Redis.

dramatiq's broker heartbeats inside every dispatch call, so a consumer that
polls keeps its worker alive.  hookstream's consumers block on a wake-up list
instead, so one thread per process beats on a fixed interval (well inside the
heartbeat timeout after which the janitor takes a worker for dead).
"""

from __future__ import annotations

import threading

import redis
import structlog
from dramatiq.common import current_millis

log = structlog.get_logger(__name__)


class Heartbeat:
    def __init__(self, client: redis.Redis, key: str, worker_id: str, *,
                 interval_s: float) -> None:
        self._client = client
        self._key = key
        self._worker_id = worker_id
        self._interval_s = interval_s
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def beat(self) -> None:
        self._client.zadd(self._key, {self._worker_id: current_millis()})

    def start(self) -> None:
        """Start beating (once; later calls do nothing)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="hookstream-heartbeat")
                self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            try:
                self.beat()
            except redis.RedisError as exc:
                log.warning("worker.heartbeat_failed", error=str(exc))

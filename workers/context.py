"""`WorkerContext`: everything an actor needs in one object, made once per worker process.

The composition root (`workers.broker`) installs a `ProcessContext` middleware
on the broker; actors reach their dependencies through it (`workers.broker.context()`)
instead of module-level caches. The context is built on first use, so after
any fork, and its Redis pool is closed when the worker shuts down.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis
from dramatiq import Middleware
from dramatiq.broker import Broker

from common.jobs import JobSender
from common.publishing import EventLog
from common.redis import connect
from common.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WorkerContext:
    settings: Settings
    redis: redis.Redis
    event_log: EventLog
    jobs: JobSender
    _services: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _services_lock: threading.Lock = field(default_factory=threading.Lock, compare=False,
                                           repr=False)

    def service(self, name: str, build: Callable[[WorkerContext], T]) -> T:
        """A domain's per-process service (an Airtable client, a SQL differ), built once."""
        with self._services_lock:
            if name not in self._services:
                self._services[name] = build(self)
            found: T = self._services[name]
            return found

    @classmethod
    def connect(cls, settings: Settings) -> WorkerContext:
        client = connect(settings.require_redis_url())
        return cls(settings=settings, redis=client, event_log=EventLog(client, settings.events),
                   jobs=JobSender(client, namespace=settings.workers.namespace))

    def close(self) -> None:
        self.redis.close()


class ProcessContext(Middleware):
    """Holds this process's `WorkerContext`: built on first use, dropped in a forked child."""

    def __init__(self, build: Callable[[], WorkerContext]) -> None:
        self._build = build
        self._context: WorkerContext | None = None
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forget)

    def get(self) -> WorkerContext:
        context = self._context
        if context is None:
            with self._lock:
                if self._context is None:
                    self._context = self._build()
                context = self._context
        return context

    def after_worker_shutdown(self, broker: Broker, worker: Any) -> None:
        with self._lock:
            context, self._context = self._context, None
        if context is not None:
            context.close()

    def _forget(self) -> None:
        """In a forked child: the parent's pool is not ours to use (nor to close)."""
        self._context = None
        self._lock = threading.Lock()

    @staticmethod
    def of(broker: Broker) -> ProcessContext:
        for middleware in broker.middleware:
            if isinstance(middleware, ProcessContext):
                return middleware
        raise LookupError("this broker has no ProcessContext middleware")

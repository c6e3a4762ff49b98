"""`Telemetry`, the figures one process knows, and the loops that report them to Redis.

A composition root makes one `Telemetry` per process, registers what it knows
(``telemetry.add(source)``: a `Figures` read at each report), hands it to code
that counts (``telemetry.count(name, labels=...)``, ``telemetry.gauge(...)``,
both cheap and thread-safe) and starts a reporter: `ThreadReporter` in
dramatiq and scheduler processes, `AsyncReporter` on an ASGI server's loop.
Every ``interval_s`` the reporter replaces the process's hash in one MULTI
(figures plus ``@role``, ``@pid``, ``@host``, ``@at_ms``) and scores its id in
the index with the time the report expires, so a dead process drops out of
the dashboard within ``ttl``; a clean stop removes it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import redis
import redis.asyncio
import structlog

from common.telemetry import keys
from common.telemetry.figures import Figure, Figures, Labels, Merge, as_labels, encode_field

log = structlog.get_logger(__name__)
MIN_TTL_S = 3.0
INDEX_TTL_MS = 86_400_000  # the index outlives the last reporter by a day, then goes
REDIS_ERRORS = (redis.RedisError, OSError)


class Recorder(Protocol):
    """What code that counts depends on; `Telemetry` is the one implementation (and fake)."""

    def gauge(self, name: str, value: float, labels: Mapping[str, str] | None = None, *,
              merge: Merge = "sum") -> None: ...

    def count(self, name: str, amount: float = 1.0, labels: Mapping[str, str] | None = None,
              *, merge: Merge = "sum") -> None: ...


AsyncFigures = Callable[[], Awaitable[Iterable[Figure]]]


class Telemetry:
    """One process's figures: values set or counted here, plus registered sources."""

    def __init__(self, role: str) -> None:
        self.role = role
        self._values: dict[tuple[str, Merge, Labels], float] = {}
        self._sources: list[Figures] = []
        self._async_sources: list[AsyncFigures] = []
        self._lock = threading.Lock()

    def gauge(self, name: str, value: float, labels: Mapping[str, str] | None = None, *,
              merge: Merge = "sum") -> None:
        with self._lock:
            self._values[(name, merge, as_labels(labels))] = float(value)

    def count(self, name: str, amount: float = 1.0, labels: Mapping[str, str] | None = None,
              *, merge: Merge = "sum") -> None:
        key = (name, merge, as_labels(labels))
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def add(self, source: Figures) -> None:
        self._sources.append(source)

    def add_async(self, source: AsyncFigures) -> None:
        """A source that must await (the ingress reads its shared counters from Redis)."""
        self._async_sources.append(source)

    def figures(self) -> list[Figure]:
        with self._lock:
            found = [Figure(name, value, labels, merge)
                     for (name, merge, labels), value in self._values.items()]
        for source in self._sources:
            found.extend(_read_safely(source))
        return found

    async def figures_async(self) -> list[Figure]:
        found = self.figures()
        for source in self._async_sources:
            try:
                found.extend(await source())
            except Exception as exc:
                log.warning("telemetry.source_failed", error=type(exc).__name__)
        return found


def _read_safely(source: Figures) -> list[Figure]:
    try:
        return list(source.figures())
    except Exception as exc:
        log.warning("telemetry.source_failed", source=type(source).__name__,
                    error=type(exc).__name__)
        return []


@dataclass(frozen=True, slots=True)
class Identity:
    """Who reports: a fresh id per process start, so a restart never mixes counters."""

    role: str
    reporter_id: str
    pid: int
    host: str
    started_ms: int

    @classmethod
    def new(cls, role: str) -> Identity:
        host, pid = socket.gethostname(), os.getpid()
        return cls(role, f"{role}:{host}:{pid}:{secrets.token_hex(3)}", pid, host, now_ms())


def now_ms() -> int:
    return int(time.time() * 1000)


def queue_report(pipe: Any, namespace: str, identity: Identity, figures: Iterable[Figure], *,
                 at_ms: int, ttl_ms: int) -> None:
    """Queue on a MULTI *pipe* the commands that replace *identity*'s report."""
    report, index = keys.report_key(namespace, identity.reporter_id), keys.reporters_key(namespace)
    mapping: dict[bytes | str, bytes | str | int] = {
        "@role": identity.role, "@pid": identity.pid, "@host": identity.host,
        "@started_ms": identity.started_ms, "@at_ms": at_ms}
    for item in figures:
        mapping[encode_field(item.key)] = repr(item.value)
    pipe.delete(report)
    pipe.hset(report, mapping=mapping)
    pipe.pexpire(report, ttl_ms)
    pipe.zadd(index, {identity.reporter_id: at_ms + ttl_ms})
    pipe.zremrangebyscore(index, "-inf", at_ms)
    pipe.pexpire(index, max(ttl_ms, INDEX_TTL_MS))


def queue_removal(pipe: Any, namespace: str, identity: Identity) -> None:
    pipe.zrem(keys.reporters_key(namespace), identity.reporter_id)
    pipe.delete(keys.report_key(namespace, identity.reporter_id))


def ttl_ms_for(interval_s: float) -> int:
    return int(max(3 * interval_s, MIN_TTL_S) * 1000)


class _Outage:
    """Logs the first failed report of an outage and the recovery, not every attempt."""

    def __init__(self) -> None:
        self.down = False

    def failed(self, exc: BaseException) -> None:
        if not self.down:
            log.warning("telemetry.report_failed", error=type(exc).__name__)
        self.down = True

    def succeeded(self) -> None:
        if self.down:
            log.info("telemetry.report_recovered")
        self.down = False


class ThreadReporter:
    """Reports from a daemon thread with a blocking client (dramatiq, the scheduler)."""

    def __init__(self, telemetry: Telemetry, client: redis.Redis, namespace: str, *,
                 interval_s: float, keepalive_s: float | None = None) -> None:
        """Look at the figures every *interval_s*; with *keepalive_s*, write them only when
        they changed or the last write is *keepalive_s* old (an idle process stays quiet:
        a dramatiq worker's idle Redis calls are a measured target, bench/workers.py)."""
        self.telemetry = telemetry
        self.identity = Identity.new(telemetry.role)
        self._client = client
        self._namespace = namespace
        self._interval_s = interval_s
        self._keepalive_s = keepalive_s
        self._ttl_ms = ttl_ms_for(keepalive_s if keepalive_s is not None else interval_s)
        self._last: tuple[list[Figure], float] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._outage = _Outage()

    def start(self) -> ThreadReporter:
        self._thread = threading.Thread(target=self._run, name="telemetry", daemon=True)
        self._thread.start()
        return self

    def report(self) -> None:
        figures = list(self.telemetry.figures())
        if self._unchanged(figures):
            return
        pipe = self._client.pipeline(transaction=True)
        queue_report(pipe, self._namespace, self.identity, figures,
                     at_ms=now_ms(), ttl_ms=self._ttl_ms)
        pipe.execute()
        self._last = (figures, time.monotonic())

    def _unchanged(self, figures: list[Figure]) -> bool:
        if self._keepalive_s is None or self._last is None:
            return False
        last_figures, written_at = self._last
        fresh = time.monotonic() - written_at < self._keepalive_s
        return fresh and figures == last_figures

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(*REDIS_ERRORS):
            pipe = self._client.pipeline(transaction=True)
            queue_removal(pipe, self._namespace, self.identity)
            pipe.execute()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.report()
                self._outage.succeeded()
            except REDIS_ERRORS as exc:
                self._outage.failed(exc)
            self._stop.wait(self._interval_s)


class AsyncReporter:
    """Reports from a task on the process's event loop (the ingress, the streamer)."""

    def __init__(self, telemetry: Telemetry, client: redis.asyncio.Redis, namespace: str, *,
                 interval_s: float) -> None:
        self.telemetry = telemetry
        self.identity = Identity.new(telemetry.role)
        self._client = client
        self._namespace = namespace
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._outage = _Outage()

    def start(self) -> AsyncReporter:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="telemetry")
        return self

    async def report(self) -> None:
        figures = await self.telemetry.figures_async()
        pipe = self._client.pipeline(transaction=True)
        queue_report(pipe, self._namespace, self.identity, figures,
                     at_ms=now_ms(), ttl_ms=ttl_ms_for(self._interval_s))
        await pipe.execute()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(*REDIS_ERRORS, TimeoutError):
            pipe = self._client.pipeline(transaction=True)
            queue_removal(pipe, self._namespace, self.identity)
            await asyncio.wait_for(pipe.execute(), 2.0)

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.report(), max(self._interval_s, 1.0) * 2)
                self._outage.succeeded()
            except (*REDIS_ERRORS, TimeoutError) as exc:
                self._outage.failed(exc)
            await asyncio.sleep(self._interval_s)

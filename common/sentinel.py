"""Sentinel: where the primary is, and noticing when it moves.

`SentinelPrimary` answers the ingress's hot-path connection (`api.resp`) on each
(re)connect. `primary_watch` gives each process one thread that notices a new
primary and moves the process's redis-py clients to it: a forced failover leaves
the old primary writable, and its clients connected, until the sentinels demote
it (~10 s), and a ``SentinelConnectionPool`` only asks the sentinels when it
opens a connection, so writes would go on landing on a server about to be wiped.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import weakref
from collections.abc import Callable
from typing import Any, cast

import redis
import redis.asyncio
import redis.asyncio.sentinel
import redis.sentinel

from common.redisurls import Endpoint, SentinelTarget, is_sentinel_url, parse_sentinel_url

ANSWER_TIMEOUT_S = 0.5  # a sentinel slower than this is left out of a reconnect


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class SentinelPrimary:
    """The primary every sentinel names, once no failover is in progress.

    All sentinels are asked (one ``SENTINEL MASTERS`` each, concurrently; those
    that do not answer within half of *timeout_s*, at most `ANSWER_TIMEOUT_S`,
    are left out, so an unreachable sentinel does not stall every reconnect).
    During a failover the old primary stays writable while it already lost its
    replica to the promotion, and only the sentinel leading the failover knows:
    so a failover in progress, or sentinels naming different primaries, is
    `PrimaryUnsettled` (the caller answers 503 and the sender retries) rather
    than an address.
    """

    def __init__(self, target: SentinelTarget, *, timeout_s: float) -> None:
        self._target = target
        self._timeout_s = min(timeout_s / 2, ANSWER_TIMEOUT_S)
        self._sentinels = [
            redis.asyncio.Redis(host=host, port=port, socket_timeout=self._timeout_s,
                                socket_connect_timeout=self._timeout_s)
            for host, port in random.sample(list(target.sentinels), len(target.sentinels))]

    async def locate(self) -> Endpoint:
        views = [view for view in await asyncio.gather(*map(self._ask, self._sentinels))
                 if view is not None]
        if not views:
            raise ConnectionError(f"no sentinel names a primary for "
                                  f"{self._target.service_name!r}")
        addresses = {address for address, _ in views}
        if len(addresses) > 1 or any(busy for _, busy in views):
            raise PrimaryUnsettled(f"failover of {self._target.service_name!r} in progress")
        host, port = addresses.pop()
        target = self._target
        return Endpoint(host=host, port=port, db=target.db, username=target.username,
                        password=target.password)

    async def _ask(self, sentinel: redis.asyncio.Redis) -> tuple[tuple[str, int], bool] | None:
        try:
            reply = await asyncio.wait_for(sentinel.sentinel_masters(), self._timeout_s)
            masters = cast(dict[str, Any], reply)
        except (redis.RedisError, TimeoutError):
            return None
        state = masters.get(self._target.service_name)
        if not state or not state["is_master"] or state["is_sdown"] or state["is_odown"]:
            return None
        busy = "failover_in_progress" in str(state["flags"])
        return (_text(state["ip"]), int(state["port"])), busy


class PrimaryUnsettled(ConnectionError):
    """The sentinels are moving the primary (or disagree where it is): try again shortly."""


class PrimaryWatch:
    """Notices, from a daemon thread, when the sentinels name a new primary.

    A forced failover leaves the old primary writable and its clients connected
    until the sentinels demote it (~10 s), and a ``SentinelConnectionPool`` only
    asks the sentinels when it opens a connection: writes would go on landing on
    a server about to be wiped. So on a change the watch disconnects every
    synchronous pool it was given, bumps `generation` (asynchronous pools check
    it before each command and disconnect themselves, on their own loop), then
    calls the listeners. One ``SENTINEL MASTERS`` per *interval_s*.
    """

    def __init__(self, target: SentinelTarget, *, interval_s: float = 0.5,
                 timeout_s: float = 1.0) -> None:
        self._target = target
        self._interval_s = interval_s
        self._sentinels = redis.sentinel.Sentinel(  # type: ignore[no-untyped-call]
            list(target.sentinels),
            sentinel_kwargs={"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s})
        self.generation = 0
        self._pools: weakref.WeakSet[redis.ConnectionPool] = weakref.WeakSet()
        self._listeners: list[Callable[[str], None]] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def add_pool(self, pool: redis.ConnectionPool) -> None:
        with self._lock:
            self._pools.add(pool)

    def add_listener(self, listener: Callable[[str], None]) -> None:
        """*listener(address)* runs on the watch's thread after the pools were disconnected;
        if it raises RedisError it runs again at the next poll."""
        with self._lock:
            self._listeners.append(listener)

    def stop(self) -> None:
        self._stopped.set()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="primary-watch",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        known = self._locate()
        while not self._stopped.wait(self._interval_s):
            current = self._locate()
            if current is not None and known is not None and current != known:
                try:
                    self._changed(current)
                except redis.RedisError:
                    continue  # not handled yet: again at the next poll
            known = current or known

    def _changed(self, address: str) -> None:
        self.generation += 1
        with self._lock:
            pools, listeners = list(self._pools), list(self._listeners)
        for pool in pools:
            pool.disconnect()
        for listener in listeners:
            listener(address)

    def _locate(self) -> str | None:
        try:
            host, port = self._sentinels.discover_master(  # type: ignore[no-untyped-call]
                self._target.service_name)
        except redis.RedisError:
            return None
        return f"{_text(host)}:{port}"


_watches: dict[tuple[int, str], PrimaryWatch] = {}
_watches_lock = threading.Lock()


def primary_watch(url: str) -> PrimaryWatch | None:
    """This process's one `PrimaryWatch` of a Sentinel URL; None for a single server.

    One per process (keyed by pid: a forked child gets its own thread) and URL,
    so a process with several clients polls the sentinels once.
    """
    if not is_sentinel_url(url):
        return None
    key = (os.getpid(), url)
    with _watches_lock:
        if key not in _watches:
            _watches[key] = PrimaryWatch(parse_sentinel_url(url))
            _watches[key].start()
        return _watches[key]


class WatchedAsyncPool(redis.asyncio.sentinel.SentinelConnectionPool):
    """Drops its connections (on its own loop) once the watch has seen a new primary."""

    def __init__(self, service_name: str, sentinel_manager: Any, **kwargs: Any) -> None:
        self._watch: PrimaryWatch = kwargs.pop("primary_watch")
        self._generation = self._watch.generation
        super().__init__(service_name, sentinel_manager, **kwargs)  # type: ignore[no-untyped-call]

    async def get_connection(self, command_name: Any = None, *keys: Any,
                             **options: Any) -> Any:
        if self._generation != self._watch.generation:
            self._generation = self._watch.generation
            await self.disconnect()
        return await super().get_connection(  # type: ignore[no-untyped-call]
            command_name, *keys, **options)

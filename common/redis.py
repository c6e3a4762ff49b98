"""Redis clients from the URL: the one factory every process uses (composition roots only).

Two kinds of URL:

- ``redis://``, ``rediss://``, ``unix://``: one server, parsed by redis-py;
- ``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service_name[/db]``:
  the sentinels (port 26379 by default) are asked for the current primary of
  *service_name* on every new connection, and a connection to a primary that
  was demoted (``READONLY``) or dropped is replaced by one to the new primary.
  The password is the primary's (sentinels are reached without one).

`connect` and `connect_async` give redis-py clients (a ``SentinelConnectionPool``
behind a sentinel URL); `primary_locator` gives the ingress's hand-written
hot-path connection (`api.resp`) the primary's address on each (re)connect;
`primary_watch` moves every client of the process to a new primary as soon as
the sentinels name it (a forced failover leaves the old one writable, and its
clients connected, for ~10 s).
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, cast
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio
import redis.asyncio.sentinel
import redis.sentinel
from redis.connection import SSLConnection, UnixDomainSocketConnection
from redis.connection import parse_url as parse_server_url

from common.errors import ConfigError

DEFAULT_SOCKET_TIMEOUT_S = 5.0
SENTINEL_SCHEME = "redis+sentinel"
SERVER_SCHEMES = ("redis", "rediss", "unix")
DEFAULT_SENTINEL_PORT = 26379
SENTINEL_URL_FORM = "redis+sentinel://[:password@]host:port[,host:port...]/service_name[/db]"


def text(value: bytes | str) -> str:
    """A Redis reply as text (clients without ``decode_responses`` give bytes)."""
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True, slots=True)
class SentinelTarget:
    """A parsed ``redis+sentinel://`` URL."""

    sentinels: tuple[tuple[str, int], ...]
    service_name: str
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def is_sentinel_url(url: str) -> bool:
    return url.partition("://")[0].lower() == SENTINEL_SCHEME


def validate_url(url: str) -> str:
    """*url* if hookstream can connect with it, else ConfigError saying what is wrong."""
    scheme = url.partition("://")[0].lower()
    if scheme == SENTINEL_SCHEME:
        parse_sentinel_url(url)
    elif scheme not in SERVER_SCHEMES or "://" not in url:
        raise ConfigError(f"redis URL {_masked(url)!r}: the scheme must be one of "
                          f"{', '.join(SERVER_SCHEMES)} or {SENTINEL_SCHEME}")
    return url


def parse_sentinel_url(url: str) -> SentinelTarget:
    """Parse ``redis+sentinel://...``; ConfigError (password masked) if it is malformed."""
    parts = urlsplit(url)
    if parts.scheme.lower() != SENTINEL_SCHEME:
        raise _bad_sentinel_url(url, f"the scheme is not {SENTINEL_SCHEME}")
    if parts.query or parts.fragment:
        raise _bad_sentinel_url(url, "query strings and fragments are not supported")
    credentials, _, hosts = parts.netloc.rpartition("@")
    username, _, password = credentials.partition(":")
    segments = parts.path.strip("/").split("/") if parts.path.strip("/") else []
    if not 1 <= len(segments) <= 2 or not segments[0]:
        raise _bad_sentinel_url(url, "name the service after the hosts: /service_name[/db]")
    return SentinelTarget(sentinels=_parse_hosts(url, hosts), service_name=unquote(segments[0]),
                          db=_parse_db(url, segments[1] if len(segments) == 2 else "0"),
                          username=unquote(username) or None,
                          password=unquote(password) or None)


def _parse_hosts(url: str, hosts: str) -> tuple[tuple[str, int], ...]:
    found = [_parse_host(url, host) for host in hosts.split(",")]
    if not found:
        raise _bad_sentinel_url(url, "no sentinel host")
    return tuple(found)


def _parse_host(url: str, host: str) -> tuple[str, int]:
    if host.startswith("["):  # [::1]:26379
        name, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        name, _, port = host.partition(":")
    if not name:
        raise _bad_sentinel_url(url, f"empty sentinel host in {host!r}")
    if not port:
        return name, DEFAULT_SENTINEL_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise _bad_sentinel_url(url, f"bad port in {host!r}")
    return name, int(port)


def _parse_db(url: str, db: str) -> int:
    if not db.isdigit():
        raise _bad_sentinel_url(url, f"the database must be a number, not {db!r}")
    return int(db)


def _bad_sentinel_url(url: str, problem: str) -> ConfigError:
    return ConfigError(f"redis URL {_masked(url)!r}: {problem} (expected {SENTINEL_URL_FORM})")


def _masked(url: str) -> str:
    """*url* with any password replaced, for error messages."""
    scheme, sep, rest = url.partition("://")
    credentials, at, hosts = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.partition(':')[0]}:**********@{hosts}"


# -- redis-py clients ---------------------------------------------------------------------

def connect(url: str, *, socket_timeout_s: float | None = DEFAULT_SOCKET_TIMEOUT_S,
            connect_timeout_s: float | None = None,
            health_check_interval_s: int = 30) -> redis.Redis:
    """A synchronous client with a connection pool, for gunicorn and dramatiq processes.

    Blocking pops need ``socket_timeout_s`` longer than the block and
    ``health_check_interval_s=0`` (no PING before each pop).
    """
    options: dict[str, Any] = {
        "socket_timeout": socket_timeout_s,
        "socket_connect_timeout": connect_timeout_s or socket_timeout_s,
        "health_check_interval": health_check_interval_s,
    }
    if not is_sentinel_url(url):
        return redis.Redis.from_url(validate_url(url), **options)
    target = parse_sentinel_url(url)
    sentinels = redis.sentinel.Sentinel(  # type: ignore[no-untyped-call]
        list(target.sentinels), sentinel_kwargs=_sentinel_options(options))
    client: redis.Redis = sentinels.master_for(  # type: ignore[no-untyped-call]
        target.service_name, redis_class=redis.Redis, **_primary_options(target), **options)
    watch = primary_watch(url)
    if watch is not None:
        watch.add_pool(client.connection_pool)
    return client


def connect_async(url: str, *, socket_timeout_s: float | None = None) -> redis.asyncio.Redis:
    """An asyncio client for the streamer and the ingress; blocking reads set their own timeouts."""
    options: dict[str, Any] = {
        "socket_timeout": socket_timeout_s,
        "socket_connect_timeout": DEFAULT_SOCKET_TIMEOUT_S,
        "health_check_interval": 30,
    }
    if not is_sentinel_url(url):
        return redis.asyncio.Redis.from_url(validate_url(url), **options)
    target = parse_sentinel_url(url)
    sentinels = redis.asyncio.sentinel.Sentinel(  # type: ignore[no-untyped-call]
        list(target.sentinels), sentinel_kwargs=_sentinel_options(options))
    client: redis.asyncio.Redis = sentinels.master_for(
        target.service_name, redis_class=redis.asyncio.Redis,
        connection_pool_class=_WatchedAsyncPool, primary_watch=primary_watch(url),
        **_primary_options(target), **options)
    return client


def _sentinel_options(options: dict[str, Any]) -> dict[str, Any]:
    """Sentinel queries are short: bounded even when the data clients block for long."""
    timeout_s = options["socket_connect_timeout"] or DEFAULT_SOCKET_TIMEOUT_S
    return {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s}


def _primary_options(target: SentinelTarget) -> dict[str, Any]:
    return {"db": target.db, "username": target.username, "password": target.password}


# -- the primary's address, for the ingress's own connection ------------------------------

@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one server listens and how to log in to it."""

    host: str = "127.0.0.1"
    port: int = 6379
    path: str | None = None  # a unix socket instead of host:port
    tls: bool = False
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return self.path or f"{self.host}:{self.port}"


class PrimaryLocator(Protocol):
    """Says where the primary is now; asked before each (re)connect."""

    async def locate(self) -> Endpoint: ...


class FixedPrimary:
    """A single server: always the URL's."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    async def locate(self) -> Endpoint:
        return self.endpoint


class SentinelPrimary:
    """The primary every sentinel names, once no failover is in progress.

    All sentinels are asked (one ``SENTINEL MASTERS`` each, concurrently; those
    that do not answer in *timeout_s* are left out). During a failover the old
    primary stays writable while it already lost its replica to the promotion,
    and only the sentinel leading the failover knows: so a failover in progress,
    or sentinels naming different primaries, is `PrimaryUnsettled` (the caller
    answers 503 and the sender retries) rather than an address.
    """

    def __init__(self, target: SentinelTarget, *, timeout_s: float) -> None:
        self._target = target
        self._timeout_s = timeout_s
        self._sentinels = [
            redis.asyncio.Redis(host=host, port=port, socket_timeout=timeout_s,
                                socket_connect_timeout=timeout_s)
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
        return (text(state["ip"]), int(state["port"])), busy


class PrimaryUnsettled(ConnectionError):
    """The sentinels are moving the primary (or disagree where it is): try again shortly."""


def primary_locator(url: str, *, timeout_s: float = DEFAULT_SOCKET_TIMEOUT_S) -> PrimaryLocator:
    """The `PrimaryLocator` for *url*: fixed for a server URL, the sentinels' answer otherwise."""
    if is_sentinel_url(url):
        return SentinelPrimary(parse_sentinel_url(url), timeout_s=timeout_s)
    return FixedPrimary(_server_endpoint(validate_url(url)))


def _server_endpoint(url: str) -> Endpoint:
    parsed: dict[str, Any] = parse_server_url(url)  # type: ignore[no-untyped-call]
    connection_class = parsed.get("connection_class")
    return Endpoint(host=parsed.get("host") or "127.0.0.1", port=int(parsed.get("port") or 6379),
                    path=parsed.get("path") if connection_class is UnixDomainSocketConnection
                    else None,
                    tls=connection_class is SSLConnection, db=int(parsed.get("db") or 0),
                    username=parsed.get("username"), password=parsed.get("password"))


# -- noticing a failover ------------------------------------------------------------------

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
        return f"{text(host)}:{port}"


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


class _WatchedAsyncPool(redis.asyncio.sentinel.SentinelConnectionPool):
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

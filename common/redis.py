"""Redis clients from the URL: the one factory every process uses (composition roots only).

For a ``redis://``, ``rediss://`` or ``unix://`` URL, one server. For
``redis+sentinel://...`` (`common.redisurls`), the sentinels are asked for the
current primary on every new connection, a connection to a primary that was
demoted (``READONLY``) or dropped is replaced by one to the new primary, and the
process's `common.sentinel.primary_watch` moves every client to a new primary as
soon as the sentinels name it.

`connect` and `connect_async` give redis-py clients; `primary_locator` tells the
ingress's hand-written hot-path connection (`api.resp`) where the primary is.
"""

from __future__ import annotations

from typing import Any, Protocol

import redis
import redis.asyncio
import redis.asyncio.sentinel
import redis.sentinel

from common.redisurls import (
    Endpoint,
    SentinelTarget,
    is_sentinel_url,
    parse_sentinel_url,
    server_endpoint,
    validate_url,
)
from common.sentinel import SentinelPrimary, WatchedAsyncPool, primary_watch

__all__ = ["DEFAULT_SOCKET_TIMEOUT_S", "Endpoint", "FixedPrimary", "PrimaryLocator", "connect",
           "connect_async", "primary_locator", "text"]

DEFAULT_SOCKET_TIMEOUT_S = 5.0


def text(value: bytes | str) -> str:
    """A Redis reply as text (clients without ``decode_responses`` give bytes)."""
    return value.decode() if isinstance(value, bytes) else value


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
        connection_pool_class=WatchedAsyncPool, primary_watch=primary_watch(url),
        **_primary_options(target), **options)
    return client


def _sentinel_options(options: dict[str, Any]) -> dict[str, Any]:
    """Sentinel queries are short: bounded even when the data clients block for long."""
    timeout_s = options["socket_connect_timeout"] or DEFAULT_SOCKET_TIMEOUT_S
    return {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s}


def _primary_options(target: SentinelTarget) -> dict[str, Any]:
    return {"db": target.db, "username": target.username, "password": target.password}


# -- the primary's address, for the ingress's own connection ------------------------------

class PrimaryLocator(Protocol):
    """Says where the primary is now; asked before each (re)connect."""

    async def locate(self) -> Endpoint: ...


class FixedPrimary:
    """A single server: always the URL's."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    async def locate(self) -> Endpoint:
        return self.endpoint


def primary_locator(url: str, *, timeout_s: float = DEFAULT_SOCKET_TIMEOUT_S) -> PrimaryLocator:
    """The `PrimaryLocator` for *url*: fixed for a server URL, the sentinels' answer otherwise."""
    if is_sentinel_url(url):
        return SentinelPrimary(parse_sentinel_url(url), timeout_s=timeout_s)
    return FixedPrimary(server_endpoint(url))

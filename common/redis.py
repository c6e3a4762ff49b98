"""Redis clients, made by composition roots and passed down (never module globals)."""

from __future__ import annotations

import redis
import redis.asyncio

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
    return redis.Redis.from_url(
        url,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=connect_timeout_s or socket_timeout_s,
        health_check_interval=health_check_interval_s,
    )


def connect_async(url: str, *, socket_timeout_s: float | None = None) -> redis.asyncio.Redis:
    """An asyncio client for the streamer; blocking reads set their own timeouts."""
    return redis.asyncio.Redis.from_url(
        url,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=DEFAULT_SOCKET_TIMEOUT_S,
        health_check_interval=30,
    )

"""Redis URLs: a single server's (``redis://``, ``rediss://``, ``unix://``, parsed by
redis-py) or Sentinel's, ``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]
/service_name[/db]`` (sentinel port 26379 by default; the password is the primary's,
sentinels are reached without one). A malformed URL is a ConfigError that says what is
wrong and never shows the password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from redis.connection import SSLConnection, UnixDomainSocketConnection
from redis.connection import parse_url as parse_server_url

from common.errors import ConfigError

SENTINEL_SCHEME = "redis+sentinel"
SERVER_SCHEMES = ("redis", "rediss", "unix")
DEFAULT_SENTINEL_PORT = 26379
SENTINEL_URL_FORM = "redis+sentinel://[:password@]host:port[,host:port...]/service_name[/db]"


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


def server_endpoint(url: str) -> Endpoint:
    """Where the server of a ``redis://``, ``rediss://`` or ``unix://`` URL listens."""
    parsed: dict[str, Any] = parse_server_url(validate_url(url))  # type: ignore[no-untyped-call]
    connection_class = parsed.get("connection_class")
    return Endpoint(host=parsed.get("host") or "127.0.0.1", port=int(parsed.get("port") or 6379),
                    path=parsed.get("path") if connection_class is UnixDomainSocketConnection
                    else None,
                    tls=connection_class is SSLConnection, db=int(parsed.get("db") or 0),
                    username=parsed.get("username"), password=parsed.get("password"))

"""What a ``GET /events`` request asks for, read from its ASGI scope.

- ``?topic=`` (repeated): topics and ``+``/``#`` patterns, deduplicated.
- ``Last-Event-ID`` header, or ``?lastEventId=``: the resume position.
- the token: ``Authorization: Bearer``, then the cookie, then ``?access_token=``.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from common.errors import InvalidTopic
from common.topics import validate_pattern
from streamer.errors import Rejection
from streamer.positions import Position, parse_position

MAX_TOPICS = 100


@dataclass(frozen=True, slots=True)
class StreamRequest:
    patterns: tuple[str, ...]
    last_position: Position | None
    token: str | None


def headers_of(scope: dict[str, Any]) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", [])}


def read_request(scope: dict[str, Any], *, cookie_name: str,
                 headers: dict[bytes, bytes] | None = None) -> StreamRequest:
    """The stream's topics, resume position and token; *headers* if already read."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    headers = headers_of(scope) if headers is None else headers
    return StreamRequest(patterns=_patterns(query.get("topic", [])),
                         last_position=_last_position(headers, query),
                         token=_token(headers, query, cookie_name))


def _patterns(topics: list[str]) -> tuple[str, ...]:
    if not topics:
        raise Rejection(400, "no_topic", "give at least one ?topic=")
    if len(topics) > MAX_TOPICS:
        raise Rejection(400, "too_many_topics", f"at most {MAX_TOPICS} topics per stream")
    try:
        return tuple(dict.fromkeys(validate_pattern(topic) for topic in topics))
    except InvalidTopic as exc:
        raise Rejection(400, "invalid_topic", str(exc)) from None


def _last_position(headers: dict[bytes, bytes], query: dict[str, list[str]]) -> Position | None:
    raw = headers.get(b"last-event-id", b"").decode("latin-1").strip()
    raw = raw or (query.get("lastEventId") or [""])[-1].strip()
    return parse_position(raw) if raw else None


def _token(headers: dict[bytes, bytes], query: dict[str, list[str]],
           cookie_name: str) -> str | None:
    scheme, _, credentials = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    cookie = _cookie(headers.get(b"cookie", b"").decode("latin-1"), cookie_name)
    return cookie or (query.get("access_token") or [""])[-1] or None


def _cookie(header: str, name: str) -> str | None:
    try:
        morsel = SimpleCookie(header).get(name)
    except CookieError:
        return None
    return morsel.value if morsel is not None and morsel.value else None

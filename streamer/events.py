"""``GET /events?topic=A&topic=B``: the SSE hot path, a bare ASGI endpoint.

Deliberately not a StreamingResponse or an EventSourceResponse: each of those
adds a task group and buffers per connection, and this path is held open by
tens of thousands of clients. Its only per-connection state is a `Subscriber`
and one task that waits for the client to go away.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import orjson
import structlog

from common.errors import InvalidTopic
from common.topics import covers, validate_pattern
from streamer.frames import retry_frame
from streamer.hub import Hub
from streamer.subscriber import Subscriber

log = structlog.get_logger(__name__)
Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
]


class Rejection(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class EventsEndpoint:
    def __init__(self, *, public_topics: list[str], retry_ms: int, max_events: int,
                 max_bytes: int) -> None:
        self._public = public_topics
        self._hello = retry_frame(retry_ms)
        self._max_events = max_events
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            patterns = self._authorise(self._requested_patterns(scope))
        except Rejection as exc:
            await _send_error(send, exc)
            return
        subscriber = Subscriber(patterns, max_events=self._max_events, max_bytes=self._max_bytes)
        await self._stream(scope["state"]["hub"], subscriber, receive, send)

    def _requested_patterns(self, scope: Scope) -> tuple[str, ...]:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        topics = query.get("topic", [])
        if not topics:
            raise Rejection(400, "no_topic", "give at least one ?topic=")
        try:
            return tuple(dict.fromkeys(validate_pattern(topic) for topic in topics))
        except InvalidTopic as exc:
            raise Rejection(400, "invalid_topic", str(exc)) from None

    def _authorise(self, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            if not any(covers(public, pattern) for public in self._public):
                raise Rejection(401, "token_required",
                                f"topic {pattern!r} is not public; a token is required")
        return patterns

    async def _stream(self, hub: Hub, subscriber: Subscriber, receive: Receive,
                      send: Send) -> None:
        hub.attach(subscriber)
        watcher = asyncio.ensure_future(_wait_for_disconnect(receive))
        watcher.add_done_callback(lambda _: subscriber.close("client_gone"))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            await send({"type": "http.response.body", "body": self._hello, "more_body": True})
            while not subscriber.closed:
                await subscriber.wait()
                if subscriber.frames:
                    chunk = subscriber.take()
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except OSError:
            subscriber.close("client_gone")
        finally:
            hub.detach(subscriber)
            watcher.cancel()
        if subscriber.close_reason != "client_gone":
            await _finish(send)


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _finish(send: Send) -> None:
    with contextlib.suppress(OSError):
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _send_error(send: Send, rejection: Rejection) -> None:
    body = orjson.dumps({"error": {"code": rejection.code, "message": rejection.message}})
    await send({"type": "http.response.start", "status": rejection.status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

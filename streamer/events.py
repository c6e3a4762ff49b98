"""``GET /events?topic=A&topic=B``: the SSE hot path, a bare ASGI endpoint.

Deliberately not a StreamingResponse or an EventSourceResponse: each of those
adds a task group and buffers per connection, and this path is held open by
tens of thousands of clients. Per connection it holds one `Subscriber` and its
own coroutine; under uvicorn no extra task (see `peers`).

Order of a resuming stream: attach to the hub (live frames buffer), note the
hub's position P, replay ``(Last-Event-ID, P]`` from the log, then send the
buffered live frames, which all come after P: no gap, no duplicate.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import redis
import structlog

from common.settings import StreamerSettings
from streamer.auth import ANONYMOUS, Grant, TokenVerifier, authorise
from streamer.cors import CorsPolicy, Headers
from streamer.errors import Rejection
from streamer.frames import reset_frame, retry_frame
from streamer.history import UNKNOWN, History
from streamer.hub import Hub
from streamer.limits import ConnectionLimits
from streamer.peers import peer_of
from streamer.positions import Position, format_position
from streamer.requests import StreamRequest, headers_of, read_request
from streamer.subscriber import Subscriber

log = structlog.get_logger(__name__)
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
CATCH_UP_TIMEOUT_S = 5.0

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
]


@dataclass(frozen=True, slots=True)
class Opening:
    """What a stream sends before going live: a reset, or a range to replay."""

    reset: bool
    replay_after: Position | None
    until: Position


class EventsEndpoint:
    def __init__(self, settings: StreamerSettings, *, hub: Hub, history: History,
                 verifier: TokenVerifier, limits: ConnectionLimits) -> None:
        self._settings = settings
        self._hub, self._history, self._verifier, self._limits = hub, history, verifier, limits
        self._cors = CorsPolicy(settings.cors_origins)
        self._hello = retry_frame(settings.retry_ms, heartbeat_s=settings.heartbeat_s)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = headers_of(scope)
        cors = self._cors.headers(headers)
        if scope["method"] == "OPTIONS":
            await _send_preflight(send, self._cors.preflight(headers))
            return
        try:
            request, grant = self._admit(scope, headers)
        except Rejection as exc:
            await _send_error(send, exc, cors)
            return
        try:
            await self._serve(request, grant, receive, send, cors)
        finally:
            self._limits.release(grant.subject)

    def _admit(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[StreamRequest, Grant]:
        if scope["method"] != "GET":
            raise Rejection(405, "method_not_allowed", "use GET")
        request = read_request(scope, cookie_name=self._settings.cookie_name, headers=headers)
        grant = self._verifier.verify(request.token) if request.token else ANONYMOUS
        authorise(request.patterns, grant, self._settings.public_topics)
        if self._hub.draining:
            raise Rejection(503, "draining", "this streamer is shutting down; reconnect",
                            retry_after_s=1)
        self._limits.acquire(grant.subject)
        return request, grant

    async def _serve(self, request: StreamRequest, grant: Grant, receive: Receive,
                     send: Send, cors: Headers) -> None:
        try:
            reset = await self._check_position(request.last_position)
        except (Rejection, redis.RedisError) as exc:
            await _send_error(send, _as_rejection(exc), cors)
            return
        subscriber = Subscriber(request.patterns, max_events=self._settings.buffer_events,
                                max_bytes=self._settings.buffer_bytes, subject=grant.subject)
        subscriber.peer = peer_of(receive, lambda: subscriber.close("client_gone"))
        self._hub.attach(subscriber, expires_at_s=grant.expires_at_s)
        opening = Opening(reset=reset, replay_after=request.last_position,
                          until=self._hub.position)
        try:
            await self._stream(subscriber, opening, send, cors)
        finally:
            self._hub.detach(subscriber)
            subscriber.peer.release()

    async def _check_position(self, position: Position | None) -> bool:
        """True when *position* is unknown to the log (a reset); waits for a lagging hub."""
        if position is None or position <= self._hub.position:
            return False
        if not await self._history.knows(position):
            return True
        if not await self._hub.caught_up(position, timeout_s=CATCH_UP_TIMEOUT_S):
            raise Rejection(503, "catching_up", "this streamer is behind the log; retry",
                            retry_after_s=1)
        return False

    async def _stream(self, subscriber: Subscriber, opening: Opening, send: Send,
                      cors: Headers) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS + cors})
        await _write(send, self._hello)
        await self._replay(subscriber, opening, send)
        await self._live(subscriber, send)
        if subscriber.peer is not None and not subscriber.peer.gone():
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _replay(self, subscriber: Subscriber, opening: Opening, send: Send) -> None:
        if opening.reset:
            await _write(send, reset_frame(format_position(opening.until), UNKNOWN))
            return
        if opening.replay_after is None:
            return
        try:
            async for chunk in self._history.replay(opening.replay_after, opening.until,
                                                    subscriber.patterns):
                await _write(send, chunk)
        except redis.RedisError as exc:
            log.warning("streamer.replay_failed", error=str(exc))
            subscriber.close("replay_failed")

    async def _live(self, subscriber: Subscriber, send: Send) -> None:
        peer = subscriber.peer
        while not (subscriber.closed or (peer is not None and peer.gone())):
            await subscriber.wait()
            if subscriber.frames:
                await _write(send, subscriber.take())


async def _write(send: Send, body: bytes) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": True})


def _as_rejection(exc: Exception) -> Rejection:
    if isinstance(exc, Rejection):
        return exc
    return Rejection(503, "unavailable", "the event log is unreachable; retry", retry_after_s=1)


async def _send_preflight(send: Send, headers: Headers) -> None:
    status = 204 if headers else 403
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


async def _send_error(send: Send, rejection: Rejection, cors: Headers) -> None:
    body = orjson.dumps({"error": {"code": rejection.code, "message": rejection.message}})
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode()), *cors]
    if rejection.retry_after_s is not None:
        headers.append((b"retry-after", str(rejection.retry_after_s).encode()))
    await send({"type": "http.response.start", "status": rejection.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

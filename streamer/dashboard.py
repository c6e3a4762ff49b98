"""The operator dashboard: ``GET /dashboard`` (the page) and ``GET /dashboard/stream``.

The page (static/dashboard.html) is public; it holds no figures. Its stream
needs the admin token (``[dashboard] admin_token``) as ``Authorization: Bearer``,
which the page sends from a fetch stream (the token sits in the tab's
sessionStorage; never in a URL, so never in a log). No token configured: 403.

`DashboardFeed` polls Redis once per interval for every open dashboard stream
of the process, and only while one is open: it reads the live reports of every
process (`common.telemetry.board`) and sends each stream the merged view as an
SSE ``figures`` event. A stream that cannot keep up skips to the newest view.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio
import structlog
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from common.telemetry.board import Board, read_reports
from common.telemetry.reporter import REDIS_ERRORS, now_ms

log = structlog.get_logger(__name__)
BACKLOG_FRAMES = 2
READ_TIMEOUT_S = 5.0
STREAM_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"),
                  (b"cache-control", b"no-store"), (b"x-accel-buffering", b"no")]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def figures_frame(view: dict[str, object]) -> bytes:
    return b"event: figures\ndata: " + orjson.dumps(view) + b"\n\n"


class DashboardFeed:
    def __init__(self, client: redis.asyncio.Redis, namespace: str, *,
                 interval_s: float) -> None:
        self._client = client
        self._namespace = namespace
        self._interval_s = interval_s
        self._board = Board()
        self._listeners: set[asyncio.Queue[bytes]] = set()
        self._task: asyncio.Task[None] | None = None
        self._latest: bytes | None = None

    async def frames(self, *, stopping: Callable[[], bool]) -> AsyncIterator[bytes]:
        """Frames for one stream: the newest view at once, then one per interval."""
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=BACKLOG_FRAMES)
        self._listeners.add(queue)
        if self._task is None:
            self._task = asyncio.create_task(self._poll_forever(), name="dashboard-feed")
        try:
            if self._latest is not None:
                yield self._latest
            while not stopping():
                yield await queue.get()
        finally:
            self._listeners.discard(queue)
            if not self._listeners and self._task is not None:
                self._task.cancel()
                self._task = None

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def poll(self) -> bytes:
        at_ms = now_ms()
        try:
            reports = await asyncio.wait_for(
                read_reports(self._client, self._namespace, at_ms=at_ms), READ_TIMEOUT_S)
        except (*REDIS_ERRORS, TimeoutError) as exc:
            log.warning("dashboard.read_failed", error=type(exc).__name__)
            return figures_frame({"at_ms": at_ms, "error": "redis_unavailable"})
        return figures_frame(self._board.update(reports, at_ms=at_ms))

    async def _poll_forever(self) -> None:
        while True:
            self._latest = frame = await self.poll()
            for queue in list(self._listeners):
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(frame)
            await asyncio.sleep(self._interval_s)


def _problem(status: int, code: str, message: str) -> JSONResponse:
    headers = {"www-authenticate": 'Bearer realm="hookstream-dashboard"'} if status == 401 else {}
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                        headers={**headers, "cache-control": "no-store"})


def refusal(request: Request, admin_token: SecretStr | None) -> Response | None:
    """The answer to a stream request without the right admin token, else None."""
    if admin_token is None:
        return _problem(403, "dashboard_disabled",
                        "no admin token is configured: set [dashboard] admin_token")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return _problem(401, "token_required", "send the admin token as Authorization: Bearer")
    if not hmac.compare_digest(given.strip().encode(), admin_token.get_secret_value().encode()):
        return _problem(401, "invalid_token", "the admin token is not valid")
    return None


class FrameStream:
    """An ASGI response sending *frames* until they end or the client hangs up.

    Written out rather than a StreamingResponse, which under ASGI 2.4 servers
    only notices a hang-up when a write fails (uvicorn drops writes to a closed
    transport silently): here a task watches ``receive`` for the disconnect.
    """

    def __init__(self, frames: AsyncIterator[bytes]) -> None:
        self._frames = frames

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pump = asyncio.create_task(self._pump(send))
        watch = asyncio.create_task(_until_disconnect(receive))
        await asyncio.wait({pump, watch}, return_when=asyncio.FIRST_COMPLETED)
        for task in (pump, watch):
            task.cancel()
        await asyncio.gather(pump, watch, return_exceptions=True)

    async def _pump(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        async with contextlib.aclosing(self._frames) as frames:  # type: ignore[type-var]
            async for frame in frames:
                await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def stream_route(feed: DashboardFeed, admin_token: SecretStr | None, *,
                 stopping: Callable[[], bool]) -> Callable[[Request], Awaitable[Any]]:
    async def stream(request: Request) -> Any:
        refused = refusal(request, admin_token)
        if refused is not None:
            return refused
        return FrameStream(feed.frames(stopping=stopping))

    return stream

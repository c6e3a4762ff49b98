"""``GET /dashboard`` and its live figures, ``GET /dashboard/events``, behind the admin token.

The token (``[streamer] admin_token``) comes as ``Authorization: Bearer`` (what
`client.js` sends) or ``?token=``; without one configured both routes are 404.
The stream sends one `Aggregator` snapshot a second as ``event: stats`` and
ends when the process drains.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import AsyncIterator, Callable

import orjson
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from streamer.dashboard import REPORT_INTERVAL_S, Aggregator

HELLO = f": connected heartbeat_ms={int(REPORT_INTERVAL_S * 2000)}\n\n".encode()


def authorised(request: Request, token: SecretStr | None) -> Response | None:
    """None when the request carries the admin token, else the error to answer."""
    if token is None:
        return _error(404, "not_found", "no dashboard: set [streamer] admin_token")
    header = request.headers.get("authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else ""
    given = given or request.query_params.get("token", "")
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        return _error(401, "invalid_token", "the admin token is missing or wrong")
    return None


def stats_stream(aggregator: Aggregator, *, stopped: Callable[[], bool]) -> StreamingResponse:
    return StreamingResponse(_frames(aggregator, stopped), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _frames(aggregator: Aggregator, stopped: Callable[[], bool]) -> AsyncIterator[bytes]:
    yield HELLO
    while not stopped():
        snapshot = await aggregator.snapshot(time.time())
        yield b"event: stats\ndata: " + orjson.dumps(snapshot) + b"\n\n"
        await asyncio.sleep(REPORT_INTERVAL_S)


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)

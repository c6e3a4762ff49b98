"""Liveness and readiness."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import falcon.asgi
import orjson

from api.errors import ServiceUnavailable


class Health:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.data = orjson.dumps({"status": "ok"})


class Ready:
    def __init__(self, ping: Callable[[], Awaitable[object]], *, retry_after_s: int) -> None:
        self._ping = ping
        self._retry_after_s = retry_after_s

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        try:
            await self._ping()
        except Exception as exc:
            raise ServiceUnavailable(f"redis unreachable: {type(exc).__name__}",
                                     retry_after_s=self._retry_after_s) from exc
        resp.data = orjson.dumps({"status": "ready"})

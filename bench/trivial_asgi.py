"""A trivial 202 on the ingress's own server stack (Falcon ASGI, gunicorn + uvicorn worker):
the ceiling the real ingress is compared with. Bench only."""

from __future__ import annotations

from typing import Any

import falcon
import falcon.asgi


class Trivial:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.data = b'{"ok":true}'

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        await req.stream.read()
        resp.status = falcon.HTTP_202
        resp.data = b'{"ok":true}'


def get_app() -> falcon.asgi.App[Any, Any]:
    app = falcon.asgi.App()
    app.add_route("/trivial", Trivial())
    return app

"""`Ingress`, the ASGI app gunicorn serves: one dispatch, then the endpoint or Falcon.

``POST /webhooks/<source>`` goes to the bare webhook endpoint (api/endpoint.py);
every other request, and the lifespan protocol, goes to the Falcon app.
"""

from __future__ import annotations

from typing import Any

import falcon.asgi

from api.endpoint import WebhookEndpoint

PREFIX = "/webhooks/"


def webhook_source(scope: dict[str, Any]) -> str | None:
    """The source name of a ``POST /webhooks/<source>`` request, else None."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    if not path.startswith(PREFIX):
        return None
    name = path[len(PREFIX):]
    return name if name and "/" not in name else None


class Ingress:
    def __init__(self, webhooks: WebhookEndpoint, app: falcon.asgi.App[Any, Any]) -> None:
        self.webhooks = webhooks
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        source = webhook_source(scope)
        if source is None:
            await self.app(scope, receive, send)
        else:
            await self.webhooks(scope, receive, send, source)

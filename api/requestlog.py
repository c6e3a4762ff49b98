"""One canonical log line per request, with the context the handlers noted on the way.

Handlers add fields (source, delivery id, outcome, the rejection reason, the
queue error) and the line is written once, when the response is ready: by
`RequestLog` for the Falcon routes, by the webhook endpoint (api/endpoint.py)
for its own. Accepted and duplicate webhooks (2xx on ``POST /webhooks/``) are
logged at debug level: at thousands a second the JSON line would cost more CPU
than the request itself. Rejections, errors and everything else are logged at info.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import falcon.asgi
import structlog

from api.errors import status_code

log = structlog.get_logger("api.requests")
_std = logging.getLogger("api.requests")
MAX_REQUEST_ID = 64


def request_id(presented: str | None) -> str:
    """The caller's ``X-Request-Id`` (bounded), or a fresh one."""
    return (presented or os.urandom(12).hex())[:MAX_REQUEST_ID]


def log_request(method: str, path: str, status: int, fields: Mapping[str, Any]) -> None:
    accepted_webhook = 200 <= status < 300 and method == "POST" and path.startswith("/webhooks/")
    level = logging.DEBUG if accepted_webhook else logging.INFO
    if _std.isEnabledFor(level):
        log.log(level, "request", method=method, path=path, status=status, **fields)


class RequestLog:
    """Falcon middleware: the request id, and the line when the response is ready."""

    async def process_request(self, req: falcon.asgi.Request,
                              resp: falcon.asgi.Response) -> None:
        req.context.log = {"request_id": request_id(req.get_header("X-Request-Id"))}
        resp.set_header("X-Request-Id", req.context.log["request_id"])

    async def process_response(self, req: falcon.asgi.Request, resp: falcon.asgi.Response,
                               resource: Any, req_succeeded: bool) -> None:
        log_request(req.method, req.path, status_code(resp.status),
                    getattr(req.context, "log", {}))

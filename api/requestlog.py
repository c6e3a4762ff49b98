"""One canonical log line per request, with the context the handlers noted on the way.

Handlers add fields to ``req.context.log`` (source, delivery id, outcome, the
rejection reason, the queue error); the line is written once, when the response
is ready. Accepted and duplicate webhooks (2xx on ``/webhooks/``) are logged at
debug level: at thousands a second the JSON line would cost more CPU than the
request itself. Rejections, errors and everything else are logged at info.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import falcon.asgi
import structlog

log = structlog.get_logger("api.requests")
_std = logging.getLogger("api.requests")


def note(req: falcon.asgi.Request, **fields: Any) -> None:
    """Add *fields* to this request's canonical log line."""
    req.context.log.update(fields)


class RequestLog:
    async def process_request(self, req: falcon.asgi.Request,
                              resp: falcon.asgi.Response) -> None:
        request_id = (req.get_header("X-Request-Id") or os.urandom(12).hex())[:64]
        req.context.log = {"request_id": request_id}
        resp.set_header("X-Request-Id", request_id)

    async def process_response(self, req: falcon.asgi.Request, resp: falcon.asgi.Response,
                               resource: Any, req_succeeded: bool) -> None:
        level = _level(req, resp)
        if _std.isEnabledFor(level):
            fields = getattr(req.context, "log", {})
            log.log(level, "request", method=req.method, path=req.path, status=resp.status,
                    **fields)


def _level(req: falcon.asgi.Request, resp: falcon.asgi.Response) -> int:
    accepted_webhook = str(resp.status)[:1] == "2" and req.path.startswith("/webhooks/")
    return logging.DEBUG if accepted_webhook and req.method == "POST" else logging.INFO

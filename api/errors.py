"""Errors the ingress answers with, and the one place that turns them into HTTP.

ApiError                      {"error": {"code", "message"}} with the status below
 ├── BadRequest          400  malformed JSON, bad fields
 ├── Unauthorized        401  bad, missing or stale signature; bad publisher key
 ├── NotFound            404  unknown source
 ├── PayloadTooLarge     413  body over ingress.max_body_bytes
 ├── UnsupportedMedia    415  content type is not JSON
 ├── TooManyRequests     429  over the source's rate limit; Retry-After
 └── ServiceUnavailable  503  the queue (Redis) did not take the delivery; Retry-After

`reason` names the rejection in the per-source stats (``rejected:<reason>``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import falcon
import falcon.asgi
import orjson


class ApiError(Exception):
    status: ClassVar[str] = falcon.HTTP_500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.reason = reason or self.code


class BadRequest(ApiError):
    status, code = falcon.HTTP_400, "bad_request"


class Unauthorized(ApiError):
    status, code = falcon.HTTP_401, "unauthorized"


class NotFound(ApiError):
    status, code = falcon.HTTP_404, "not_found"


class PayloadTooLarge(ApiError):
    status, code = falcon.HTTP_413, "payload_too_large"


class UnsupportedMedia(ApiError):
    status, code = falcon.HTTP_415, "unsupported_media_type"


class TooManyRequests(ApiError):
    status, code = falcon.HTTP_429, "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_s)})


class ServiceUnavailable(ApiError):
    status, code = falcon.HTTP_503, "unavailable"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_s)})


def status_code(status: str | int) -> int:
    """The number of a Falcon status line (``"413 Payload Too Large"`` -> 413)."""
    return int(falcon.http_status_to_code(status))


def error_body(code: str, message: str) -> bytes:
    return orjson.dumps({"error": {"code": code, "message": message}})


async def handle_api_error(req: falcon.asgi.Request, resp: falcon.asgi.Response,
                           ex: ApiError, params: dict[str, Any]) -> None:
    resp.status = ex.status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = error_body(ex.code, ex.message)
    for name, value in ex.headers.items():
        resp.set_header(name, value)


def serialize_http_error(req: falcon.Request, resp: falcon.Response,
                         exception: falcon.HTTPError) -> None:
    """Falcon's own errors (unknown route, wrong method) in the same JSON shape."""
    title = (exception.title or "error").split(" ", 1)[-1]
    code = title.lower().replace(" ", "_")
    resp.content_type = falcon.MEDIA_JSON
    resp.data = error_body(code, exception.description or exception.title or "error")

"""Reading request bodies once, with a cap, and parsing JSON after verification.

Under the ASGI server a chunked body (no Content-Length) arrives through the
same receive channel as any other, so it is read, never silently empty; the
cap applies to what arrives, not only to what was declared.
"""

from __future__ import annotations

from typing import Any

import falcon.asgi
import orjson

from api.errors import BadRequest, PayloadTooLarge, UnsupportedMedia


async def read_body(req: falcon.asgi.Request, *, max_bytes: int) -> bytes:
    """The raw body, at most *max_bytes*; chunked bodies (no Content-Length) too."""
    declared = req.content_length
    if declared is not None and declared > max_bytes:
        raise PayloadTooLarge(f"body is {declared} bytes; the limit is {max_bytes}")
    body: bytes = await req.stream.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"body is over the limit of {max_bytes} bytes")
    return body


def require_json_content(req: falcon.asgi.Request) -> None:
    media = (req.content_type or "").split(";")[0].strip().lower()
    is_json = media == "application/json" or media.endswith("+json")
    if not is_json:
        raise UnsupportedMedia(f"content type must be application/json, got {media or 'none'}")


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}", reason="malformed_json") from None

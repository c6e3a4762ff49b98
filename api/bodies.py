"""Reading request bodies once, with a cap, and parsing JSON after verification."""

from __future__ import annotations

from typing import Any

import falcon
import orjson

from api.errors import BadRequest, PayloadTooLarge, UnsupportedMedia


def read_body(req: falcon.Request, *, max_bytes: int) -> bytes:
    """The raw body, at most *max_bytes*; chunked bodies (no Content-Length) too."""
    declared = req.content_length
    if declared is not None and declared > max_bytes:
        raise PayloadTooLarge(f"body is {declared} bytes; the limit is {max_bytes}")
    # bounded_stream reads nothing when there is no Content-Length, as with a
    # chunked body under gunicorn: read the server's (de-chunking) stream instead.
    stream = req.bounded_stream if declared is not None else req.stream
    body: bytes = stream.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"body is over the limit of {max_bytes} bytes")
    return body


def require_json_content(req: falcon.Request) -> None:
    media = (req.content_type or "").split(";")[0].strip().lower()
    is_json = media == "application/json" or media.endswith("+json")
    if not is_json:
        raise UnsupportedMedia(f"content type must be application/json, got {media or 'none'}")


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None

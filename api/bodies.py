"""Reading request bodies once, with a cap, and parsing JSON after verification.

A chunked body (no Content-Length) arrives through the same ASGI receive
channel as any other, so it is read, never silently empty; the cap applies to
what arrives, not only to what was declared. `read_asgi_body` serves the bare
webhook endpoint, `read_body` the Falcon routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import falcon.asgi
import orjson

from api.errors import BadRequest, PayloadTooLarge, UnsupportedMedia

Receive = Callable[[], Awaitable[dict[str, Any]]]


class ClientGone(Exception):
    """The client disconnected before its request body arrived."""


async def read_asgi_body(receive: Receive, content_length: str | None, *,
                         max_bytes: int) -> bytes:
    """The raw body from ASGI ``http.request`` messages, at most *max_bytes*."""
    _check_declared(_declared_length(content_length), max_bytes)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"body is over the limit of {max_bytes} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_body(req: falcon.asgi.Request, *, max_bytes: int) -> bytes:
    """The raw body of a Falcon request, at most *max_bytes*; chunked bodies too."""
    _check_declared(req.content_length, max_bytes)
    body: bytes = await req.stream.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"body is over the limit of {max_bytes} bytes")
    return body


def _declared_length(raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest("Content-Length is not a number") from None


def _check_declared(declared: int | None, max_bytes: int) -> None:
    if declared is not None and declared > max_bytes:
        raise PayloadTooLarge(f"body is {declared} bytes; the limit is {max_bytes}")


def require_json(content_type: str | None) -> None:
    """415 unless the media type is ``application/json`` or ``*/*+json``."""
    media = (content_type or "").split(";")[0].strip().lower()
    if not (media == "application/json" or media.endswith("+json")):
        raise UnsupportedMedia(f"content type must be application/json, got {media or 'none'}")


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}", reason="malformed_json") from None

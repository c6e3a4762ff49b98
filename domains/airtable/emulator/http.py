"""Request and response helpers shared by the API and admin routes."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from domains.airtable.emulator.errors import invalid
from domains.airtable.emulator.state import Emulator


def emulator_of(request: Request) -> Emulator:
    state: Emulator = request.app.state.emulator
    return state


def answer(document: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(document), status_code=status, media_type="application/json")


async def body_of(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid("INVALID_REQUEST_BODY", "the body is not JSON") from None
    if not isinstance(document, dict):
        raise invalid("INVALID_REQUEST_BODY", "the body must be a JSON object")
    return document

"""Composition root of the streamer.

Served by uvicorn: ``uvicorn --factory streamer.app:get_app``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib.resources import files
from typing import Any

import redis.asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.logs import configure_logging
from common.redis import connect_async
from common.settings import Settings, load_settings
from streamer.events import EventsEndpoint
from streamer.hub import Hub

STATIC = files("streamer") / "static"


def create_app(settings: Settings, *, client: redis.asyncio.Redis) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        hub = Hub(client, settings.events.stream_key, heartbeat_s=settings.streamer.heartbeat_s)
        await hub.start()
        try:
            yield {"hub": hub, "redis": client}
        finally:
            await hub.stop()
            await client.aclose()

    events = EventsEndpoint(public_topics=settings.streamer.public_topics,
                            retry_ms=settings.streamer.retry_ms,
                            max_events=settings.streamer.buffer_events,
                            max_bytes=settings.streamer.buffer_bytes)
    routes = [
        Route("/events", events),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/stats", stats),
        Route("/client.js", static_file("client.js", "text/javascript")),
        Route("/", static_file("demo.html", "text/html")),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await request.state.redis.ping()
    except Exception as exc:
        return JSONResponse({"error": {"code": "unavailable", "message": type(exc).__name__}},
                            status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"status": "ready"})


async def stats(request: Request) -> Response:
    hub: Hub = request.state.hub
    return JSONResponse({
        "connections": len(hub.subscribers),
        "patterns": hub.index.counts_by_pattern(),
        "events": hub.stats.events,
        "deliveries": hub.stats.deliveries,
        "drops": hub.stats.drops,
        "position": hub.last_position,
    })


def static_file(name: str, media_type: str) -> Any:
    body = (STATIC / name).read_bytes()

    async def serve(request: Request) -> Response:
        return Response(body, media_type=media_type)

    return serve


def get_app() -> Starlette:
    settings = load_settings()
    configure_logging(settings, process="streamer")
    return create_app(settings, client=connect_async(settings.require_redis_url()))

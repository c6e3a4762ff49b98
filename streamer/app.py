"""Composition root of the streamer.

Served by uvicorn: ``uvicorn --factory streamer.app:get_app``. ``/events`` is
dispatched straight to its bare ASGI endpoint (no middleware wraps its
``send``); every other route goes through Starlette.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import redis.asyncio
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.logs import configure_logging
from common.redis import connect_async
from common.settings import Settings, load_settings
from streamer.admin import authorised, stats_stream
from streamer.auth import TokenVerifier
from streamer.dashboard import Aggregator, Reporter
from streamer.events import EventsEndpoint
from streamer.history import History
from streamer.hub import Hub
from streamer.limits import ConnectionLimits
from streamer.metrics import metrics_registry, stats_of
from streamer.signals import on_shutdown_signal

STATIC = files("streamer") / "static"
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@dataclass
class StreamerApp:
    """The ASGI app uvicorn serves: ``/events`` direct, the rest through Starlette."""

    events: EventsEndpoint
    routes: Starlette

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/events":
            await self.events(scope, receive, send)
        else:
            await self.routes(scope, receive, send)


def create_app(settings: Settings, *, client: redis.asyncio.Redis) -> StreamerApp:
    config = settings.streamer
    hub = Hub(client, settings.events.stream_key, heartbeat_s=config.heartbeat_s)
    limits = ConnectionLimits(max_total=config.max_connections,
                              max_per_subject=config.max_connections_per_subject,
                              retry_after_s=config.retry_after_s)
    history = History(client, settings.events.stream_key, batch=config.replay_batch)
    events = EventsEndpoint(config, hub=hub, history=history, verifier=TokenVerifier(config),
                            limits=limits)
    registry = metrics_registry(hub)
    namespace = settings.workers.namespace
    reporter = Reporter(client, namespace, lambda: stats_of(hub, limits))
    aggregator = Aggregator(client, namespace, queues=settings.workers.queues,
                            sources=sorted(settings.sources))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        await hub.start()
        reporting = asyncio.create_task(reporter.run_forever())
        restore_signals = on_shutdown_signal(lambda: hub.drain(config.drain_window_s))
        try:
            yield {"hub": hub, "redis": client}
        finally:
            restore_signals()
            reporting.cancel()
            with contextlib.suppress(Exception):
                await reporter.withdraw()
            await hub.stop()
            await client.aclose()

    async def stats(request: Request) -> Response:
        return JSONResponse(stats_of(hub, limits))

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    dashboard_page = static_file("dashboard.html", "text/html")

    async def dashboard(request: Request) -> Response:
        if config.admin_token is None:
            return authorised(request, None) or Response(status_code=404)
        return await dashboard_page(request)

    async def dashboard_events(request: Request) -> Response:
        refused = authorised(request, config.admin_token)
        return refused or stats_stream(aggregator, stopped=lambda: hub.draining)

    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/stats", stats),
        Route("/metrics", metrics),
        Route("/client.js", static_file("client.js", "text/javascript")),
        Route("/dashboard", dashboard),
        Route("/dashboard/events", dashboard_events),
        Route("/", static_file("demo.html", "text/html")),
    ]
    return StreamerApp(events, Starlette(routes=routes, lifespan=lifespan))


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    if request.state.hub.draining:
        return JSONResponse({"error": {"code": "draining", "message": "shutting down"}},
                            status_code=503, headers={"Retry-After": "1"})
    try:
        await request.state.redis.ping()
    except Exception as exc:
        return JSONResponse({"error": {"code": "unavailable", "message": type(exc).__name__}},
                            status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"status": "ready"})


def static_file(name: str, media_type: str) -> Callable[[Request], Awaitable[Response]]:
    body = (STATIC / name).read_bytes()

    async def serve(request: Request) -> Response:
        return Response(body, media_type=media_type)

    return serve


def get_app() -> StreamerApp:
    settings = load_settings()
    configure_logging(settings, process="streamer")
    return create_app(settings, client=connect_async(settings.require_redis_url()))

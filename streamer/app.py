"""Composition root of the streamer.

Served by uvicorn: ``uvicorn --factory streamer.app:get_app``. ``/events`` is
dispatched straight to its bare ASGI endpoint (no middleware wraps its
``send``); every other route goes through Starlette.
"""

from __future__ import annotations

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
from common.telemetry import AsyncReporter, Telemetry
from streamer.auth import TokenVerifier
from streamer.dashboard import DashboardFeed, stream_route
from streamer.events import EventsEndpoint
from streamer.figures import HubFigures
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
    dashboard = settings.dashboard
    telemetry = Telemetry("streamer")
    telemetry.add(HubFigures(hub, limits, max_labels=dashboard.max_labels))
    feed = DashboardFeed(client, settings.workers.namespace, interval_s=dashboard.report_interval_s)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        await hub.start()
        reporter = AsyncReporter(telemetry, client, settings.workers.namespace,
                                 interval_s=dashboard.report_interval_s)
        if dashboard.reporting:
            reporter.start()
        restore_signals = on_shutdown_signal(lambda: hub.drain(config.drain_window_s))
        try:
            yield {"hub": hub, "redis": client}
        finally:
            restore_signals()
            await feed.stop()
            await reporter.stop()
            await hub.stop()
            await client.aclose()

    async def stats(request: Request) -> Response:
        return JSONResponse(stats_of(hub, limits))

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/stats", stats),
        Route("/metrics", metrics),
        Route("/client.js", static_file("client.js", "text/javascript")),
        Route("/", static_file("demo.html", "text/html")),
        Route("/dashboard", static_file("dashboard.html", "text/html")),
        Route("/dashboard.js", static_file("dashboard.js", "text/javascript")),
        Route("/dashboard/stream", stream_route(feed, dashboard.admin_token,
                                                stopping=lambda: hub.draining)),
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


def static_file(name: str, media_type: str) -> Any:
    body = (STATIC / name).read_bytes()

    async def serve(request: Request) -> Response:
        return Response(body, media_type=media_type)

    return serve


def get_app() -> StreamerApp:
    settings = load_settings()
    configure_logging(settings, process="streamer")
    return create_app(settings, client=connect_async(settings.require_redis_url()))

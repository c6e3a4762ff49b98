"""Composition root of the ingress. `create_app` only wires; `get_app` reads the environment.

Served by gunicorn: ``gunicorn 'api.app:get_app()'``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import falcon
import structlog

from api.errors import ApiError, handle_api_error, serialize_http_error
from api.queue import DeliveryQueue, DramatiqQueue
from api.resources.health import Health, Ready
from api.resources.publish import Publish
from api.resources.webhooks import Source, Webhooks
from api.verifiers import build_verifier
from common.logs import configure_logging
from common.publishing import EventLog, EventPublisher
from common.redis import connect
from common.settings import Settings, load_settings

log = structlog.get_logger(__name__)


class RequestContext:
    """Binds a request id for the request's log lines and writes one canonical line."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        structlog.contextvars.clear_contextvars()
        request_id = req.get_header("X-Request-Id") or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id[:64])
        resp.set_header("X-Request-Id", request_id[:64])

    def process_response(self, req: falcon.Request, resp: falcon.Response,
                         resource: Any, req_succeeded: bool) -> None:
        log.info("request", method=req.method, path=req.path, status=resp.status)
        structlog.contextvars.clear_contextvars()


def create_app(settings: Settings, *, queue: DeliveryQueue, publisher: EventPublisher,
               ping: Callable[[], object]) -> falcon.App[Any, Any]:
    retry_after_s = settings.ingress.retry_after_s
    sources = {name: Source(name, build_verifier(name, config))
               for name, config in settings.sources.items()}
    app = falcon.App(middleware=[RequestContext()])
    app.add_error_handler(ApiError, handle_api_error)
    app.set_error_serializer(serialize_http_error)
    app.add_route("/webhooks/{source}", Webhooks(
        sources, queue, max_body_bytes=settings.ingress.max_body_bytes,
        retry_after_s=retry_after_s))
    app.add_route("/publish", Publish(
        publisher, [key.get_secret_value() for key in settings.ingress.publish_keys],
        max_body_bytes=settings.ingress.max_body_bytes, retry_after_s=retry_after_s))
    app.add_route("/healthz", Health())
    app.add_route("/readyz", Ready(ping, retry_after_s=retry_after_s))
    return app


def get_app() -> falcon.App[Any, Any]:
    """Read settings from the environment and wire the real queue and event log."""
    import redis

    from workers.actors import process_delivery

    settings = load_settings()
    configure_logging(settings, process="ingress")
    client = connect(settings.require_redis_url(),
                     socket_timeout_s=settings.ingress.enqueue_timeout_s)
    queue = DramatiqQueue(process_delivery, transient=(redis.RedisError,))
    return create_app(settings, queue=queue, publisher=EventLog(client, settings.events),
                      ping=client.ping)

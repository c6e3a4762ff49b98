"""Composition root of the ingress. `create_app` only wires; `get_app` reads the environment.

An ASGI app served by gunicorn as the process manager with uvicorn workers
(``gunicorn -k uvicorn_worker.UvicornWorker 'api.app:get_app()'``): `Ingress`
sends ``POST /webhooks/{source}`` to the bare endpoint (api/endpoint.py) and
every other route to a `falcon.asgi.App`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import falcon
import falcon.asgi
import redis.asyncio

from api.asgi import Ingress
from api.endpoint import Source, WebhookEndpoint
from api.errors import ApiError, handle_api_error, serialize_http_error
from api.intake import RedisIntake
from api.metrics import Backlog, Metrics
from api.openapi import OpenApi
from api.queue import DeliveryQueue, Policy
from api.requestlog import RequestLog
from api.resources.airtable import AirtableDeps, add_airtable_routes, airtable_deps
from api.resources.health import Health, Ready
from api.resources.publish import Publish
from api.resources.sql import SqlDemo, SqlSnapshot
from api.resources.webhooks import Webhooks
from api.resp import ReplicaAcks
from api.routing import Router
from api.stats import RedisStats, SourceStats
from api.telemetry import IngressFigures, ReportingLifespan, off_loop
from api.verifiers import build_verifier
from api.verifiers.airtable import StoredSecrets
from common.keys import queue_key
from common.logs import configure_logging
from common.publishing import EventLog, EventPublisher
from common.redis import connect, connect_async
from common.replicas import NoBarrier, ReplicaBarrier, barrier
from common.settings import Settings, SourceSettings, load_settings
from common.telemetry import AsyncReporter, Figures, Telemetry
from domains.airtable.budget import token_digest
from domains.airtable.figures import AirtableFigures
from domains.airtable.webhooks import WebhookSecrets, WebhookStore
from domains.sqlwatch import demo
from domains.sqlwatch.snapshots import NoSnapshots, RedisSnapshots, SnapshotSource


def build_source(name: str, config: SourceSettings, settings: Settings, *,
                 airtable_secrets: StoredSecrets | None = None) -> Source:
    policy = Policy(dedupe_window_s=config.dedupe_window_s or settings.ingress.dedupe_window_s,
                    rate_limit_per_s=config.rate_limit_per_s or settings.ingress.rate_limit_per_s)
    verifier = build_verifier(name, config, airtable_secrets=airtable_secrets)
    return Source(name, config.kind, verifier, Router.from_settings(name, config), policy)


def create_app(settings: Settings, *, queue: DeliveryQueue, stats: SourceStats,
               publisher: EventPublisher, ping: Callable[[], Awaitable[object]],
               backlog: Backlog, snapshots: SnapshotSource | None = None,
               airtable_secrets: StoredSecrets | None = None,
               airtable: AirtableDeps | None = None,
               replicas: ReplicaBarrier | None = None) -> Ingress:
    ingress = settings.ingress
    sources = {name: build_source(name, config, settings, airtable_secrets=airtable_secrets)
               for name, config in settings.sources.items()}
    webhooks = WebhookEndpoint(sources, queue, stats, max_body_bytes=ingress.max_body_bytes,
                               retry_after_s=ingress.retry_after_s)
    app = falcon.asgi.App(middleware=[RequestLog()])
    app.add_error_handler(ApiError, handle_api_error)
    app.set_error_serializer(serialize_http_error)
    app.add_route("/webhooks/{source}", Webhooks(sources, stats,
                                                 retry_after_s=ingress.retry_after_s))
    app.add_route("/publish", Publish(
        publisher, [key.get_secret_value() for key in ingress.publish_keys],
        max_body_bytes=ingress.max_body_bytes, retry_after_s=ingress.retry_after_s,
        replicas=replicas or NoBarrier()))
    app.add_route("/healthz", Health())
    app.add_route("/readyz", Ready(ping, retry_after_s=ingress.retry_after_s))
    app.add_route("/metrics", Metrics(list(sources), stats, backlog,
                                      queue=settings.workers.queue,
                                      retry_after_s=ingress.retry_after_s,
                                      extra=airtable.metrics if airtable else None))
    app.add_route("/openapi.json", OpenApi())
    app.add_route("/sql/{watch}/snapshot", SqlSnapshot(
        snapshots or NoSnapshots(), [key.get_secret_value() for key in ingress.publish_keys],
        settings.streamer, retry_after_s=ingress.retry_after_s))
    if demo.WATCH in settings.watches:
        sql_demo = SqlDemo(settings.watches[demo.WATCH].url.get_secret_value(), page=demo.page())
        app.add_route("/sql/demo", sql_demo)
        app.add_route("/sql/demo/sell", sql_demo, suffix="sell")
    if airtable is not None:
        add_airtable_routes(app, airtable, settings)
    return Ingress(webhooks, app)


def get_app() -> Ingress:
    """Read settings from the environment and wire the real queue, stats and event log."""
    settings = load_settings()
    configure_logging(settings, process="ingress")
    url, timeout_s = settings.require_redis_url(), settings.ingress.enqueue_timeout_s
    client = connect_async(url, socket_timeout_s=timeout_s)
    acks = ReplicaAcks(timeout_ms=settings.ingress.replica_ack_timeout_ms,
                       grace_s=settings.ingress.replica_grace_s)
    intake = RedisIntake(url, namespace=settings.workers.namespace,
                         queue=settings.workers.queue, timeout_s=timeout_s, replica_acks=acks)
    sync_client = connect(url, socket_timeout_s=timeout_s)
    publisher = EventLog(sync_client, settings.events)
    snapshots = RedisSnapshots(sync_client, settings.watches, namespace=settings.workers.namespace,
                               events=settings.events)
    waiting = queue_key(settings.workers.namespace, settings.workers.queue)

    async def backlog() -> int:
        return int(await asyncio.wait_for(client.llen(waiting), timeout_s))

    airtable_secrets = WebhookSecrets(WebhookStore(connect(url, socket_timeout_s=timeout_s),
                                                  namespace=settings.workers.namespace))
    stats = RedisStats(client, namespace=settings.workers.namespace, timeout_s=timeout_s)
    replicas = barrier(sync_client, settings)
    ingress = create_app(settings, queue=intake, stats=stats, publisher=publisher,
                         ping=client.ping, backlog=backlog, snapshots=snapshots,
                         airtable_secrets=airtable_secrets,
                         airtable=airtable_deps(settings, sync_client, replicas),
                         replicas=replicas)
    if settings.dashboard.reporting:
        ingress.app.add_middleware(ReportingLifespan(reporting(
            settings, client, stats, airtable=airtable_figures(settings, sync_client))))
    return ingress


def reporting(settings: Settings, client: redis.asyncio.Redis, stats: SourceStats, *,
              airtable: Figures | None = None) -> AsyncReporter:
    """This process's reporter to the dashboard: the shared per-source and Airtable counters."""
    telemetry = Telemetry("ingress")
    telemetry.add_async(IngressFigures(list(settings.sources), stats))
    if airtable is not None:
        telemetry.add_async(off_loop(airtable))
    return AsyncReporter(telemetry, client, settings.workers.namespace,
                         interval_s=settings.dashboard.report_interval_s)


def airtable_figures(settings: Settings, client: redis.Redis) -> AirtableFigures | None:
    """The Airtable domain's figures, or None when no Airtable token is configured."""
    config = settings.airtable
    if config.token is None:
        return None
    return AirtableFigures(client, settings.workers.namespace,
                           base_rate_per_s=config.base_rate_per_s,
                           token_rate_per_s=config.token_rate_per_s,
                           token_id=token_digest(config.token.get_secret_value()))

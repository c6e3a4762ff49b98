"""Wiring of the Airtable read and write services from settings (for composition roots).

The ingress builds a `RecordReader` and a `JobStore`; the workers build a
`WriteRunner`. Each passes its own Redis client and event log.
"""

from __future__ import annotations

import pyairtable
import redis

from common.publishing import EventPublisher
from common.replicas import barrier
from common.settings import Settings
from domains.airtable.budget import RequestBudget
from domains.airtable.cache import ReadCache, RecordReader, TableIds
from domains.airtable.client import build_api
from domains.airtable.jobs import JobStore
from domains.airtable.transport import ApiFactory
from domains.airtable.writes import WriteRunner

READ_MAX_WAIT_S = 10.0
WRITE_MAX_WAIT_S = 3.0


def build_budget(client: redis.Redis, settings: Settings) -> RequestBudget:
    airtable = settings.airtable
    return RequestBudget(client, namespace=settings.workers.namespace,
                         token=airtable.require_token().get_secret_value(),
                         base_rate_per_s=airtable.base_rate_per_s,
                         token_rate_per_s=airtable.token_rate_per_s)


def build_budgeted_api(client: redis.Redis, settings: Settings, *,
                       max_wait_s: float) -> pyairtable.Api:
    return build_api(settings.airtable, build_budget(client, settings), max_wait_s=max_wait_s)


def budgeted_api_factory(client: redis.Redis, settings: Settings, *,
                         max_wait_s: float) -> ApiFactory:
    """An `ApiFactory` for the change sync, webhooks and reconciliation outside the
    workers (the CLI, the bench): one budgeted `Api`, built on first use."""
    built: list[pyairtable.Api] = []

    def api() -> pyairtable.Api:
        if not built:
            built.append(build_budgeted_api(client, settings, max_wait_s=max_wait_s))
        return built[0]

    return api


def build_reader(client: redis.Redis, settings: Settings, *,
                 max_wait_s: float = READ_MAX_WAIT_S) -> RecordReader:
    api = build_budgeted_api(client, settings, max_wait_s=max_wait_s)
    namespace = settings.workers.namespace
    return RecordReader(api, ReadCache(client, settings.airtable, namespace=namespace),
                        TableIds(client, api, namespace=namespace))


def build_runner(client: redis.Redis, settings: Settings, publisher: EventPublisher, *,
                 slice_s: float) -> WriteRunner:
    api = build_budgeted_api(client, settings, max_wait_s=WRITE_MAX_WAIT_S)
    reader = RecordReader(api, ReadCache(client, settings.airtable,
                                         namespace=settings.workers.namespace),
                          TableIds(client, api, namespace=settings.workers.namespace))
    lease_s = slice_s + WRITE_MAX_WAIT_S + settings.airtable.request_timeout_s + 5
    return WriteRunner(JobStore(client, namespace=settings.workers.namespace), api, publisher,
                       invalidate=reader.invalidate, slice_s=slice_s, lease_s=lease_s,
                       replicas=barrier(client, settings))

"""``/airtable/...``: record reads through the cache, queued writes, job state, stats.

Thin adapters over domains/airtable (whose Redis and HTTP calls are
synchronous, so they run in worker threads, off the event loop):

- ``GET /airtable/{base}/{table}/records`` and ``.../records/{record}``: Airtable's
  record shape, every page followed, ``X-Cache: hit|miss``. Bearer: the ingress
  publish key, or a subscriber JWT granting ``airtable/{base}/{tableId}/+``.
- ``POST|PATCH|DELETE /airtable/{base}/{table}/records``: ``202 {"job": id}`` once
  the job is in Redis; ``Idempotency-Key`` gives the same job again. Publish key.
- ``GET /airtable/jobs/{id}``: state and per-record results (publish key, or a JWT
  granting ``airtable/jobs/{id}``).
- ``GET /airtable/stats``: cache hits/misses, requests granted, 429s and pauses per base.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import falcon
import falcon.asgi
import orjson
import redis
import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from api.bodies import parse_json, read_body, require_json
from api.errors import ApiError, BadRequest, NotFound, ServiceUnavailable, Unauthorized
from api.verifiers.base import any_equal
from common.errors import EventLogUnavailable
from common.grants import Grant, GrantRefused, TokenVerifier
from common.replicas import NoBarrier, ReplicaBarrier
from common.settings import Settings
from domains.airtable.cache import ListQuery, RecordReader
from domains.airtable.errors import InvalidWrite, JobNotFound, MustWait, RequestRejected
from domains.airtable.jobs import JobStore
from domains.airtable.sender import JobSender, RedisJobSender
from domains.airtable.services import build_reader
from domains.airtable.stats import read_stats
from domains.airtable.write_requests import check_base, check_record_id, check_table, parse_write

log = structlog.get_logger(__name__)
T = TypeVar("T")
LIST_PARAMS = "view, filterByFormula, fields[], sort[N][field], sort[N][direction], maxRecords"


class Forbidden(ApiError):
    status, code = falcon.HTTP_403, "forbidden"


class BadGateway(ApiError):
    status, code = falcon.HTTP_502, "bad_gateway"


class Access:
    """Bearer auth: a publish key (everything), or a subscriber JWT (what it grants)."""

    def __init__(self, publish_keys: Sequence[str], verifier: TokenVerifier) -> None:
        self._keys = [key.encode() for key in publish_keys]
        self._verifier = verifier

    def bearer(self, req: falcon.asgi.Request) -> str:
        scheme, _, presented = (req.get_header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise Unauthorized("missing credentials (Authorization: Bearer KEY or JWT)")
        return presented.strip()

    def is_key(self, presented: str) -> bool:
        return bool(self._keys) and any_equal([presented.encode()], self._keys)

    def require_key(self, req: falcon.asgi.Request) -> None:
        if not self.is_key(self.bearer(req)):
            raise Unauthorized("missing or wrong publisher key (Authorization: Bearer KEY)")

    def grant(self, presented: str) -> Grant:
        try:
            return self._verifier.verify(presented)
        except GrantRefused as exc:
            raise Unauthorized(f"not a publish key, and not a valid token: {exc.message}",
                               reason=exc.code) from None


async def off_loop(fn: Callable[..., T], *args: Any, retry_after_s: int) -> T:
    """Run a domain call in a thread; its errors as HTTP answers."""
    try:
        return await asyncio.to_thread(fn, *args)
    except MustWait as exc:
        raise ServiceUnavailable(f"Airtable is not available now: {exc}",
                                 retry_after_s=max(1, round(exc.retry_after_s))) from exc
    except RequestRejected as exc:
        raise _rejected(exc) from exc
    except EventLogUnavailable as exc:  # the replicas did not confirm the job in time
        raise ServiceUnavailable(f"{exc}; retry later (same Idempotency-Key)",
                                 retry_after_s=retry_after_s) from exc
    except redis.RedisError as exc:
        raise ServiceUnavailable("Redis unavailable, retry later",
                                 retry_after_s=retry_after_s) from exc


def _rejected(exc: RequestRejected) -> ApiError:
    if exc.status == 404:
        return NotFound(str(exc))
    if exc.status in (400, 422):
        return BadRequest(str(exc))
    return BadGateway(str(exc))


def list_query(query_string: str) -> ListQuery:
    """Airtable's list parameters from a query string; 400 on anything else."""
    view = formula = None
    fields: list[str] = []
    sort: dict[int, dict[str, str]] = {}
    max_records: int | None = None
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        if name == "view":
            view = value
        elif name == "filterByFormula":
            formula = value
        elif name in ("fields[]", "fields"):
            fields.append(value)
        elif name == "maxRecords":
            max_records = _positive(name, value)
        elif name.startswith("sort["):
            _sort_param(sort, name, value)
        elif name not in ("pageSize", "offset"):
            raise BadRequest(f"unknown query parameter {name!r} (allowed: {LIST_PARAMS})")
    return ListQuery(view=view, formula=formula, fields=fields,
                     sort=[_sort_key(sort[i]) for i in sorted(sort)], max_records=max_records)


def _positive(name: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise BadRequest(f"{name} must be a positive integer")
    return int(value)


def _sort_param(sort: dict[int, dict[str, str]], name: str, value: str) -> None:
    index, _, rest = name.removeprefix("sort[").partition("]")
    part = rest.removeprefix("[").removesuffix("]")
    if not index.isdigit() or part not in ("field", "direction"):
        raise BadRequest(f"bad sort parameter {name!r} (sort[N][field], sort[N][direction])")
    if part == "direction" and value not in ("asc", "desc"):
        raise BadRequest("sort direction must be asc or desc")
    sort.setdefault(int(index), {})[part] = value


def _sort_key(entry: dict[str, str]) -> str:
    if "field" not in entry:
        raise BadRequest("each sort[N] needs a field")
    return ("-" if entry.get("direction") == "desc" else "") + entry["field"]


class AirtableRecords:
    """``/airtable/{base}/{table}/records``: list (cached) and queued writes."""

    def __init__(self, reader: RecordReader, store: JobStore, sender: JobSender,
                 access: Access, *, table_id: Callable[[str, str], str], queue: str,
                 max_body_bytes: int, retry_after_s: int,
                 replicas: ReplicaBarrier | None = None) -> None:
        self._reader = reader
        self._replicas = replicas or NoBarrier()
        self._store = store
        self._sender = sender
        self._access = access
        self._table_id = table_id
        self._queue = queue
        self._max_body_bytes = max_body_bytes
        self._retry_after_s = retry_after_s

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response,
                     base: str, table: str) -> None:
        _checked_ids(base, table)
        await self.authorise_read(req, base, table)
        query = list_query(req.query_string)
        read = await off_loop(self._reader.list_records, base, table, query,
                              retry_after_s=self._retry_after_s)
        _answer_read(resp, read.body, read.hit)

    async def authorise_read(self, req: falcon.asgi.Request, base: str, table: str) -> None:
        presented = self._access.bearer(req)
        if self._access.is_key(presented):
            return
        grant = self._access.grant(presented)
        table_id = await off_loop(self._table_id, base, table, retry_after_s=self._retry_after_s)
        topic = f"airtable/{base}/{table_id}/+"
        if not grant.allows(topic):
            raise Forbidden(f"the token does not grant {topic!r}")

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response,
                      base: str, table: str) -> None:
        await self._write(req, resp, base, table)

    async def on_patch(self, req: falcon.asgi.Request, resp: falcon.asgi.Response,
                       base: str, table: str) -> None:
        await self._write(req, resp, base, table)

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response,
                        base: str, table: str) -> None:
        await self._write(req, resp, base, table)

    async def _write(self, req: falcon.asgi.Request, resp: falcon.asgi.Response,
                     base: str, table: str) -> None:
        self._access.require_key(req)
        require_json(req.content_type)
        doc = parse_json(await read_body(req, max_bytes=self._max_body_bytes))
        try:
            request = parse_write(req.method, base, table, doc)
        except InvalidWrite as exc:
            raise BadRequest(str(exc)) from None
        idempotency = req.get_header("Idempotency-Key")
        if idempotency is not None and not 0 < len(idempotency) <= 255:
            raise BadRequest("Idempotency-Key must be 1-255 characters")
        job_id = await off_loop(self._submit, request, idempotency,
                                retry_after_s=self._retry_after_s)
        log.info("airtable.write_accepted", job=job_id, op=request.op, base=base,
                 records=len(request.records))
        resp.status = falcon.HTTP_202
        resp.data = orjson.dumps({"job": job_id})

    def _submit(self, request: Any, idempotency: str | None) -> str:
        """Store and queue the job; the 202 waits for the replicas (`common.replicas`)."""
        job_id = self._store.submit(request, self._sender, queue=self._queue,
                                    idempotency_key=idempotency)
        self._replicas.confirm()
        return job_id


class AirtableRecord:
    """``/airtable/{base}/{table}/records/{record}``: one record (cached)."""

    def __init__(self, records: AirtableRecords, reader: RecordReader, *,
                 retry_after_s: int) -> None:
        self._records = records
        self._reader = reader
        self._retry_after_s = retry_after_s

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response,
                     base: str, table: str, record: str) -> None:
        _checked_ids(base, table)
        try:
            check_record_id(record)
        except InvalidWrite as exc:
            raise BadRequest(str(exc)) from None
        await self._records.authorise_read(req, base, table)
        read = await off_loop(self._reader.get_record, base, table, record,
                              retry_after_s=self._retry_after_s)
        _answer_read(resp, read.body, read.hit)


class AirtableJob:
    """``/airtable/jobs/{job}``: a write job's state and per-record results."""

    def __init__(self, store: JobStore, access: Access, *, retry_after_s: int) -> None:
        self._store = store
        self._access = access
        self._retry_after_s = retry_after_s

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response,
                     job: str) -> None:
        presented = self._access.bearer(req)
        if not self._access.is_key(presented) and not self._access.grant(presented).allows(
                f"airtable/jobs/{job}"):
            raise Forbidden(f"the token does not grant 'airtable/jobs/{job}'")
        try:
            described = await off_loop(self._store.describe, job,
                                       retry_after_s=self._retry_after_s)
        except JobNotFound:
            raise NotFound(f"no write job {job!r}") from None
        resp.data = orjson.dumps(described)


class AirtableStats:
    """``/airtable/stats``: what the budget, the pauses and the cache did, across processes."""

    def __init__(self, client: redis.Redis, *, namespace: str, retry_after_s: int) -> None:
        self._client = client
        self._namespace = namespace
        self._retry_after_s = retry_after_s

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        stats = await off_loop(read_stats, self._client, self._namespace,
                               retry_after_s=self._retry_after_s)
        resp.data = orjson.dumps(stats)


def _checked_ids(base: str, table: str) -> None:
    try:
        check_base(base)
        check_table(table)
    except InvalidWrite as exc:
        raise BadRequest(str(exc)) from None


def _answer_read(resp: falcon.asgi.Response, body: bytes, hit: bool) -> None:
    resp.content_type = falcon.MEDIA_JSON
    resp.set_header("X-Cache", "hit" if hit else "miss")
    resp.data = body


@dataclass(frozen=True, slots=True)
class AirtableDeps:
    """What the Airtable routes need, built by `airtable_deps` (tests build their own)."""

    client: redis.Redis
    reader: RecordReader
    store: JobStore
    sender: JobSender
    table_id: Callable[[str, str], str]
    replicas: ReplicaBarrier = field(default_factory=NoBarrier)

    async def metrics(self) -> list[Metric]:
        """The Airtable families of the ingress's ``GET /metrics``."""
        return airtable_families(await asyncio.to_thread(read_stats, self.client,
                                                         self.store.namespace))


def airtable_deps(settings: Settings, client: redis.Redis,
                  replicas: ReplicaBarrier | None = None) -> AirtableDeps | None:
    """The real dependencies, or None when no Airtable token is configured (no routes)."""
    if settings.airtable.token is None:
        return None
    namespace = settings.workers.namespace
    reader = build_reader(client, settings)
    return AirtableDeps(client, reader, JobStore(client, namespace=namespace),
                        RedisJobSender(client, namespace=namespace), reader.table_id,
                        replicas or NoBarrier())


def add_airtable_routes(app: falcon.asgi.App[Any, Any], deps: AirtableDeps,
                        settings: Settings) -> None:
    ingress = settings.ingress
    access = Access([key.get_secret_value() for key in ingress.publish_keys],
                    TokenVerifier(settings.streamer))
    records = AirtableRecords(deps.reader, deps.store, deps.sender, access,
                              table_id=deps.table_id, queue=settings.workers.queue,
                              max_body_bytes=ingress.max_body_bytes,
                              retry_after_s=ingress.retry_after_s, replicas=deps.replicas)
    app.add_route("/airtable/{base}/{table}/records", records)
    app.add_route("/airtable/{base}/{table}/records/{record}",
                  AirtableRecord(records, deps.reader, retry_after_s=ingress.retry_after_s))
    app.add_route("/airtable/jobs/{job}",
                  AirtableJob(deps.store, access, retry_after_s=ingress.retry_after_s))
    app.add_route("/airtable/stats", AirtableStats(
        deps.client, namespace=settings.workers.namespace, retry_after_s=ingress.retry_after_s))


def airtable_families(stats: dict[str, Any]) -> list[Metric]:
    cache = CounterMetricFamily("hookstream_airtable_cache_reads",
                                "Airtable record reads by cache result", labels=["result"])
    cache.add_metric(["hit"], stats["cache"]["hits"])
    cache.add_metric(["miss"], stats["cache"]["misses"])
    requests = CounterMetricFamily("hookstream_airtable_requests",
                                   "Airtable API requests sent (budget slots granted)",
                                   labels=["base"])
    throttled = CounterMetricFamily("hookstream_airtable_throttled",
                                    "Airtable 429 answers", labels=["base"])
    pauses = CounterMetricFamily("hookstream_airtable_pauses",
                                 "Base pauses started after a 429", labels=["base"])
    paused = GaugeMetricFamily("hookstream_airtable_paused_seconds",
                               "Seconds left of a base's pause", labels=["base"])
    for base, counts in stats["bases"].items():
        requests.add_metric([base], counts["granted"])
        throttled.add_metric([base], counts["throttled"])
        pauses.add_metric([base], counts["pauses"])
        paused.add_metric([base], counts["paused_for_s"])
    return [cache, requests, throttled, pauses, paused]

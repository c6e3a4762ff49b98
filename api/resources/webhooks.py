"""``/webhooks/{source}``: POST a delivery (verify, route, admit); GET its counters.

POST: read the raw body once (capped), verify the signature against it, parse,
route, then admit it to the queue in one atomic step. 202 for a new delivery,
200 ``"duplicate": true`` for a repeat, 200 ``"filtered": true`` for a dropped
type; never 2xx unless the job is durably queued (or deliberately dropped).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import falcon
import falcon.asgi
import orjson

from api.bodies import parse_json, read_body, require_json_content
from api.errors import ApiError, NotFound, ServiceUnavailable, TooManyRequests, Unauthorized
from api.queue import Admission, Delivery, DeliveryQueue, Outcome, Policy, QueueUnavailable
from api.requestlog import note
from api.routing import Router
from api.stats import SourceStats
from api.verifiers import InvalidSignature, SignatureVerifier, StaleTimestamp
from common.templates import UNSAFE


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    kind: str
    verifier: SignatureVerifier
    router: Router
    policy: Policy


def event_id_for(source: str, delivery_id: str) -> str:
    """Stable event id for a delivery, so a redelivered job publishes the same id."""
    return f"{source}.{UNSAFE.sub('_', delivery_id)}"[:200]


def content_id(body: bytes) -> str:
    """The delivery id of a sender that gives none: a hash of the signed body."""
    return "sha256-" + hashlib.sha256(body).hexdigest()[:32]


class Webhooks:
    def __init__(self, sources: Mapping[str, Source], queue: DeliveryQueue, stats: SourceStats,
                 *, max_body_bytes: int, retry_after_s: int) -> None:
        self._sources = sources
        self._queue = queue
        self._stats = stats
        self._max_body_bytes = max_body_bytes
        self._retry_after_s = retry_after_s

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response,
                     source: str) -> None:
        found = self._find(source)
        try:
            counts = await self._stats.read(source)
        except Exception as exc:
            raise self._unavailable("stats unavailable") from exc
        resp.data = orjson.dumps({"source": source, "kind": found.kind, "counts": counts})

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response,
                      source: str) -> None:
        found = self._find(source)
        note(req, source=source)
        try:
            delivery, dropped = await self._receive(req, found)
        except ApiError as exc:
            await self._stats.count(source, f"rejected:{exc.reason}")
            note(req, rejected=exc.reason)
            raise
        note(req, delivery_id=delivery.delivery_id)
        if dropped:
            await self._stats.count(source, "filtered")
            self._answer(resp, falcon.HTTP_200, delivery, filtered=True)
            return
        admission = await self._admit(req, delivery, found.policy)
        note(req, outcome=admission.outcome.value)
        self._respond(resp, delivery, admission)

    def _find(self, source: str) -> Source:
        found = self._sources.get(source)
        if found is None:
            raise NotFound(f"unknown source {source!r}")
        return found

    async def _receive(self, req: falcon.asgi.Request, source: Source) -> tuple[Delivery, bool]:
        require_json_content(req)
        body = await read_body(req, max_bytes=self._max_body_bytes)
        delivery_id = _verify(source.verifier, body, req.headers)
        route = source.router.route(parse_json(body))
        delivery = Delivery(source=source.name, delivery_id=delivery_id,
                            event_id=event_id_for(source.name, delivery_id),
                            body=body.decode("utf-8"), received_at_ms=int(time.time() * 1000))
        return delivery, route.topic is None

    async def _admit(self, req: falcon.asgi.Request, delivery: Delivery,
                     policy: Policy) -> Admission:
        try:
            return await self._queue.admit(delivery, policy)
        except QueueUnavailable as exc:
            note(req, queue_error=str(exc))
            raise self._unavailable("queue unavailable, retry later") from exc

    def _respond(self, resp: falcon.asgi.Response, delivery: Delivery,
                 admission: Admission) -> None:
        if admission.outcome is Outcome.RATE_LIMITED:
            retry_after_s = max(1, math.ceil(admission.retry_after_ms / 1000))
            raise TooManyRequests(f"source {delivery.source!r} is over its rate limit",
                                  retry_after_s=retry_after_s)
        if admission.outcome is Outcome.DUPLICATE:
            self._answer(resp, falcon.HTTP_200, delivery, duplicate=True)
        else:
            self._answer(resp, falcon.HTTP_202, delivery)

    @staticmethod
    def _answer(resp: falcon.asgi.Response, status: str, delivery: Delivery,
                **flags: Any) -> None:
        resp.status = status
        resp.data = orjson.dumps({"id": delivery.event_id, "delivery_id": delivery.delivery_id,
                                  **flags})

    def _unavailable(self, message: str) -> ServiceUnavailable:
        return ServiceUnavailable(message, retry_after_s=self._retry_after_s)


def _verify(verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str]) -> str:
    """The delivery id, once the signature over *body* checks out."""
    try:
        verified = verifier.verify(body, headers)
    except StaleTimestamp as exc:
        raise Unauthorized(str(exc), reason="stale_timestamp") from None
    except InvalidSignature as exc:
        raise Unauthorized(str(exc), reason="bad_signature") from None
    return verified.delivery_id or content_id(body)

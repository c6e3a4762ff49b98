"""``POST /webhooks/{source}``: the hot path, a bare ASGI endpoint dispatched before Falcon.

Read the raw body once, capped (chunked too), verify the signature against it,
parse, route, then admit the delivery to the queue in one atomic step. 202 for
a new delivery, 200 ``"duplicate": true`` for a repeat, 200 ``"filtered": true``
for a dropped type; never 2xx unless the job is durably queued (or deliberately
dropped). Errors are the `ApiError` tree's JSON, counted per source by reason.

Why not a Falcon resource: measured with bench/ingress.py, Falcon's request and
response objects, router and middleware took about a fifth of the ingress's CPU
per webhook (15.9k vs 13.0k webhooks/s on the same run). Every other route stays
on Falcon (api/app.py); `Ingress` (api/asgi.py) sends each request its way.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import structlog

from api.bodies import ClientGone, parse_json, read_asgi_body, require_json
from api.errors import (
    ApiError,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    error_body,
    status_code,
)
from api.queue import Admission, Delivery, DeliveryQueue, Outcome, Policy, QueueUnavailable
from api.requestlog import log_request, request_id
from api.routing import Router
from api.stats import SourceStats
from api.verifiers import InvalidSignature, SignatureVerifier, StaleTimestamp, Verified
from common.templates import UNSAFE

log = structlog.get_logger(__name__)

Scope = dict[str, Any]
Fields = dict[str, Any]
JSON_HEADERS = [(b"content-type", b"application/json")]
SINGLE_VALUED = frozenset({"content-type", "content-length", "host", "expect", "cookie",
                           "from", "referer", "user-agent", "max-forwards"})


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    kind: str
    verifier: SignatureVerifier
    router: Router
    policy: Policy


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    headers: Mapping[str, str] | None = None


def event_id_for(source: str, delivery_id: str) -> str:
    """Stable event id for a delivery, so a redelivered job publishes the same id."""
    return f"{source}.{UNSAFE.sub('_', delivery_id)}"[:200]


def content_id(body: bytes) -> str:
    """The delivery id of a sender that gives none: a hash of the signed body."""
    return "sha256-" + hashlib.sha256(body).hexdigest()[:32]


def request_headers(scope: Scope) -> dict[str, str]:
    """Lower-case names; a repeated header's values joined with ``,``, except the headers
    that may appear once, where the last one wins (both as Falcon does)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        joined = name in headers and name not in SINGLE_VALUED
        headers[name] = f"{headers[name]},{value}" if joined else value
    return headers


class WebhookEndpoint:
    def __init__(self, sources: Mapping[str, Source], queue: DeliveryQueue, stats: SourceStats,
                 *, max_body_bytes: int, retry_after_s: int) -> None:
        self._sources = sources
        self._queue = queue
        self._stats = stats
        self._max_body_bytes = max_body_bytes
        self._retry_after_s = retry_after_s

    async def __call__(self, scope: Scope, receive: Any, send: Any, source: str) -> None:
        headers = request_headers(scope)
        fields: Fields = {"request_id": request_id(headers.get("x-request-id"))}
        tally: list[str] = []  # outcomes counted outside the admission script
        answer: Answer | None
        try:
            answer = await self._handle(source, headers, receive, fields, tally)
        except ApiError as exc:
            answer = Answer(status_code(exc.status), error_body(exc.code, exc.message),
                            exc.headers)
        except ClientGone:
            answer, fields["client_gone"] = None, True
        except Exception:
            log.exception("request.failed", **fields)
            answer = Answer(500, error_body("internal_error", "internal error"))
        if answer is not None:
            await _send(send, answer, fields["request_id"])
        for outcome in tally:  # best effort, after the answer: a slow Redis never delays it
            await self._stats.count(source, outcome)
        log_request("POST", scope["path"], answer.status if answer else 499, fields)

    async def _handle(self, name: str, headers: Mapping[str, str], receive: Any,
                      fields: Fields, tally: list[str]) -> Answer:
        source = self._sources.get(name)
        if source is None:
            raise NotFound(f"unknown source {name!r}")
        fields["source"] = name
        try:
            delivery, dropped = await self._receive(source, headers, receive)
        except ApiError as exc:
            tally.append(f"rejected:{exc.reason}")
            fields["rejected"] = exc.reason
            raise
        except ClientGone:
            tally.append("rejected:client_gone")
            raise
        fields["delivery_id"] = delivery.delivery_id
        if dropped:
            tally.append("filtered")
            return _accepted(200, delivery, filtered=True)
        admission = await self._admit(delivery, source.policy, fields)
        fields["outcome"] = admission.outcome.value
        return _answer(delivery, admission)

    async def _receive(self, source: Source, headers: Mapping[str, str],
                       receive: Any) -> tuple[Delivery, bool]:
        require_json(headers.get("content-type"))
        body = await read_asgi_body(receive, headers.get("content-length"),
                                    max_bytes=self._max_body_bytes)
        verified = _verify(source.verifier, body, headers)
        delivery_id = verified.delivery_id or content_id(body)
        payload = verified.document if verified.document is not None else parse_json(body)
        route = source.router.route(payload)
        delivery = Delivery(source=source.name, delivery_id=delivery_id,
                            event_id=event_id_for(source.name, delivery_id),
                            body=body.decode(), received_at_ms=int(time.time() * 1000))
        return delivery, route.topic is None

    async def _admit(self, delivery: Delivery, policy: Policy, fields: Fields) -> Admission:
        try:
            return await self._queue.admit(delivery, policy)
        except QueueUnavailable as exc:
            fields["queue_error"] = str(exc)
            raise ServiceUnavailable("queue unavailable, retry later",
                                     retry_after_s=self._retry_after_s) from exc


def _verify(verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str]) -> Verified:
    """What the verifier learnt, once the signature over *body* checks out."""
    try:
        return verifier.verify(body, headers)
    except StaleTimestamp as exc:
        raise Unauthorized(str(exc), reason="stale_timestamp") from None
    except InvalidSignature as exc:
        raise Unauthorized(str(exc), reason="bad_signature") from None


def _answer(delivery: Delivery, admission: Admission) -> Answer:
    if admission.outcome is Outcome.RATE_LIMITED:
        retry_after_s = max(1, math.ceil(admission.retry_after_ms / 1000))
        raise TooManyRequests(f"source {delivery.source!r} is over its rate limit",
                              retry_after_s=retry_after_s)
    if admission.outcome is Outcome.DUPLICATE:
        return _accepted(200, delivery, duplicate=True)
    return _accepted(202, delivery)


def _accepted(status: int, delivery: Delivery, **flags: bool) -> Answer:
    return Answer(status, orjson.dumps({"id": delivery.event_id,
                                        "delivery_id": delivery.delivery_id, **flags}))


async def _send(send: Any, answer: Answer, request_id_value: str) -> None:
    headers = [*JSON_HEADERS, (b"content-length", str(len(answer.body)).encode()),
               (b"x-request-id", request_id_value.encode("latin-1"))]
    for name, value in (answer.headers or {}).items():
        headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})

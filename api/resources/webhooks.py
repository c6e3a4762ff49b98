"""``POST /webhooks/{source}``: verify against the raw body, parse, enqueue, 202."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

import falcon
import orjson
import structlog

from api.bodies import parse_json, read_body, require_json_content
from api.errors import NotFound, ServiceUnavailable, Unauthorized
from api.queue import Delivery, DeliveryQueue, QueueUnavailable
from api.verifiers import InvalidSignature, SignatureVerifier
from common.templates import UNSAFE

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    verifier: SignatureVerifier


def event_id_for(source: str, delivery_id: str) -> str:
    """Stable event id for a delivery, so a redelivered job publishes the same id."""
    return f"{source}.{UNSAFE.sub('_', delivery_id)}"[:200]


def lower_headers(req: falcon.Request) -> dict[str, str]:
    return {name.lower(): value for name, value in req.headers.items()}


class Webhooks:
    def __init__(self, sources: Mapping[str, Source], queue: DeliveryQueue, *,
                 max_body_bytes: int, retry_after_s: int) -> None:
        self._sources = sources
        self._queue = queue
        self._max_body_bytes = max_body_bytes
        self._retry_after_s = retry_after_s

    def on_post(self, req: falcon.Request, resp: falcon.Response, source: str) -> None:
        found = self._sources.get(source)
        if found is None:
            raise NotFound(f"unknown source {source!r}")
        structlog.contextvars.bind_contextvars(source=source)
        require_json_content(req)
        body = read_body(req, max_bytes=self._max_body_bytes)
        try:
            verified = found.verifier.verify(body, lower_headers(req))
        except InvalidSignature as exc:
            log.info("webhook.rejected", reason=str(exc))
            raise Unauthorized(str(exc)) from None
        parse_json(body)
        delivery_id = verified.delivery_id or _content_id(body)
        delivery = Delivery(source=source, event_id=event_id_for(source, delivery_id),
                            body=body.decode("utf-8"), received_at_ms=int(time.time() * 1000))
        structlog.contextvars.bind_contextvars(delivery_id=delivery_id)
        self._enqueue(delivery)
        resp.status = falcon.HTTP_202
        resp.data = orjson.dumps({"id": delivery.event_id, "delivery_id": delivery_id})

    def _enqueue(self, delivery: Delivery) -> None:
        try:
            self._queue.enqueue(delivery)
        except QueueUnavailable as exc:
            log.warning("webhook.enqueue_failed", error=str(exc))
            raise ServiceUnavailable("queue unavailable, retry later",
                                     retry_after_s=self._retry_after_s) from exc
        log.info("webhook.accepted", event_id=delivery.event_id)


def _content_id(body: bytes) -> str:
    return "sha256-" + hashlib.sha256(body).hexdigest()[:32]

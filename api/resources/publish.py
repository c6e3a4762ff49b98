"""``POST /publish``: an app backend publishes ``{topic, type, data, id?}`` with a key.

The event log client is synchronous (common/publishing.py, shared with the
workers), so the append runs in a worker thread, off the event loop. The 202
comes only once the primary's replicas have the event (`common.replicas`): an
event answered 202 survives a failover. If they do not confirm in time the
answer is 503 with Retry-After; the event may then be in the log already, and a
retry with the same ``id`` is answered ``duplicate: true``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import falcon
import falcon.asgi
import orjson
import structlog

from api.bodies import parse_json, read_body, require_json
from api.errors import BadRequest, ServiceUnavailable, Unauthorized
from api.verifiers.base import any_equal
from common.errors import EventLogUnavailable, HookstreamError
from common.events import Event
from common.publishing import EventPublisher, Published
from common.replicas import ReplicaBarrier

log = structlog.get_logger(__name__)
ALLOWED_FIELDS = {"topic", "type", "data", "id"}


class Publish:
    def __init__(self, publisher: EventPublisher, keys: Sequence[str], *,
                 max_body_bytes: int, retry_after_s: int, replicas: ReplicaBarrier) -> None:
        self._publisher = publisher
        self._replicas = replicas
        self._keys = [key.encode() for key in keys]
        self._max_body_bytes = max_body_bytes
        self._retry_after_s = retry_after_s

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        self._authenticate(req)
        require_json(req.content_type)
        body = await read_body(req, max_bytes=self._max_body_bytes)
        event = _event_from(parse_json(body))
        try:
            published = await asyncio.to_thread(self._publish, event)
        except EventLogUnavailable as exc:
            raise ServiceUnavailable("event log unavailable, retry later",
                                     retry_after_s=self._retry_after_s) from exc
        log.info("publish.accepted", event_id=event.id, topic=event.topic,
                 duplicate=published.duplicate)
        resp.status = falcon.HTTP_202
        resp.data = orjson.dumps({"id": event.id, "position": published.position,
                                  "duplicate": published.duplicate})

    def _publish(self, event: Event) -> Published:
        published = self._publisher.publish(event)
        self._replicas.confirm()
        return published

    def _authenticate(self, req: falcon.asgi.Request) -> None:
        scheme, _, presented = (req.get_header("Authorization") or "").partition(" ")
        if not self._keys:
            raise Unauthorized("publishing is disabled: no ingress.publish_keys configured")
        if scheme.lower() != "bearer" or not any_equal([presented.encode()], self._keys):
            raise Unauthorized("missing or wrong publisher key (Authorization: Bearer KEY)")


def _event_from(doc: Any) -> Event:
    if not isinstance(doc, dict):
        raise BadRequest("body must be a JSON object {topic, type, data, id?}")
    unknown = set(doc) - ALLOWED_FIELDS
    missing = {"topic", "type"} - set(doc)
    if unknown or missing:
        raise BadRequest(f"unknown fields {sorted(unknown)}; missing fields {sorted(missing)}")
    if not all(isinstance(doc[name], str) for name in ("topic", "type")):
        raise BadRequest("topic and type must be strings")
    optional_id = {"id": doc["id"]} if doc.get("id") is not None else {}
    try:
        return Event(topic=doc["topic"], type=doc["type"], data=doc.get("data"),
                     source="publish", **optional_id)
    except (HookstreamError, TypeError) as exc:
        raise BadRequest(str(exc)) from None

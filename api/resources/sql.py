"""``GET /sql/{watch}/snapshot?topic=T``: the rows of a SQL watch on one topic, and where to resume.

Allowed with the Bearer publish key (an app backend), or a subscriber JWT that
grants T (the streamer's rule, `common.grants`; also ``?access_token=``), or
without a token when T is public. Answers ``{"watch", "topic", "rows",
"position"}``: load the rows, then open ``GET /events?topic=T&lastEventId=POSITION``
on the streamer and apply the events; nothing falls between the two (see
`domains.sqlwatch.state`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import falcon
import falcon.asgi
import orjson
import redis

from api.errors import ApiError, BadRequest, NotFound, ServiceUnavailable
from api.verifiers.base import any_equal
from common.errors import InvalidTopic
from common.grants import ANONYMOUS, Grant, GrantRefused, TokenVerifier, authorise
from common.settings import StreamerSettings
from common.topics import validate_topic
from domains.sqlwatch import demo
from domains.sqlwatch.errors import UnknownWatch
from domains.sqlwatch.snapshots import SnapshotSource


class Refused(ApiError):
    """401/403 with the grant rule's own code (``token_required``, ``topic_forbidden``...)."""

    def __init__(self, refusal: GrantRefused) -> None:
        super().__init__(refusal.message)
        self.status = falcon.code_to_http_status(refusal.status)  # type: ignore[misc]
        self.code = refusal.code  # type: ignore[misc]


class SqlSnapshot:
    def __init__(self, snapshots: SnapshotSource, publish_keys: Sequence[str],
                 streamer: StreamerSettings, *, retry_after_s: int) -> None:
        self._snapshots = snapshots
        self._keys = [key.encode() for key in publish_keys]
        self._verifier = TokenVerifier(streamer)
        self._public = list(streamer.public_topics)
        self._retry_after_s = retry_after_s

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response,
                     watch: str) -> None:
        topic = _topic(req.get_param("topic"))
        self._authorise(req, topic)
        try:
            snapshot = await asyncio.to_thread(self._snapshots.snapshot, watch, topic)
        except UnknownWatch as exc:
            raise NotFound(str(exc)) from None
        except redis.RedisError as exc:
            raise ServiceUnavailable("snapshot store unavailable, retry later",
                                     retry_after_s=self._retry_after_s) from exc
        resp.data = orjson.dumps({"watch": watch, "topic": topic, "rows": snapshot.rows,
                                  "position": snapshot.position})
        resp.content_type = falcon.MEDIA_JSON

    def _authorise(self, req: falcon.asgi.Request, topic: str) -> None:
        token = _bearer(req) or req.get_param("access_token")
        if token and self._keys and any_equal([token.encode()], self._keys):
            return
        try:
            grant: Grant = self._verifier.verify(token) if token else ANONYMOUS
            authorise((topic,), grant, self._public)
        except GrantRefused as refusal:
            raise Refused(refusal) from None


def _bearer(req: falcon.asgi.Request) -> str | None:
    scheme, _, value = (req.get_header("Authorization") or "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def _topic(value: str | None) -> str:
    if not value:
        raise BadRequest("topic is required: /sql/{watch}/snapshot?topic=T")
    try:
        return validate_topic(value)
    except InvalidTopic as exc:
        raise BadRequest(str(exc)) from None


class SqlDemo:
    """``GET /sql/demo`` (the trips page) and ``POST /sql/demo/sell?trip=N`` of the SQLite demo."""

    def __init__(self, url: str, *, page: bytes) -> None:
        self._url = url
        self._page = page

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.data = self._page

    async def on_post_sell(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        trip = req.get_param_as_int("trip", required=True)
        try:
            left = await asyncio.to_thread(demo.sell, self._url, trip)
        except demo.SoldOut as exc:
            raise Conflict(str(exc)) from None
        resp.data = orjson.dumps({"trip": trip, "seats_left": left})
        resp.content_type = falcon.MEDIA_JSON


class Conflict(ApiError):
    status, code = falcon.HTTP_409, "sold_out"

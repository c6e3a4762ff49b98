"""The ingress's OpenAPI 3.1 document, served at ``/openapi.json``.

Hand-written and kept true to the routes by tests/unit/api/test_openapi.py,
which checks every documented path and status against the app.
"""

from __future__ import annotations

from typing import Any

import falcon.asgi
import orjson

from api.openapi_airtable import airtable_paths
from common.settings import SOURCE_NAME

JSON = "application/json"
ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _error(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description,
                                "content": {JSON: {"schema": ERROR_REF}}}
    if retry_after:
        response["headers"] = {"Retry-After": {"description": "seconds to wait",
                                               "schema": {"type": "integer"}}}
    return response


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


ACCEPTED = {"type": "object", "required": ["id", "delivery_id"], "properties": {
    "id": {"type": "string", "description": "event id: <source>.<delivery id>"},
    "delivery_id": {"type": "string"},
    "duplicate": {"type": "boolean"}, "filtered": {"type": "boolean"}}}
SOURCE = {"name": "source", "in": "path", "required": True,
          "schema": {"type": "string", "pattern": SOURCE_NAME.pattern}}

WEBHOOK_POST = {
    "summary": "Deliver a signed webhook",
    "parameters": [SOURCE],
    "requestBody": {"required": True, "content": {JSON: {"schema": {}}}},
    "responses": {
        "202": _ok("verified and durably queued", ACCEPTED),
        "200": _ok("a repeat of a queued delivery (duplicate), or a filtered type", ACCEPTED),
        "400": _error("malformed JSON, or a payload the source's templates cannot route"),
        "401": _error("missing, wrong or stale signature"),
        "404": _error("unknown source"),
        "413": _error("body over ingress.max_body_bytes"),
        "415": _error("content type is not JSON"),
        "429": _error("over the source's rate limit", retry_after=True),
        "503": _error("the queue did not take it in time; retry", retry_after=True),
    },
}
WEBHOOK_GET = {
    "summary": "Counters of a source (no secrets)",
    "parameters": [SOURCE],
    "responses": {
        "200": _ok("received, accepted, duplicates, filtered, rejected:<reason>", {
            "type": "object", "properties": {
                "source": {"type": "string"}, "kind": {"type": "string"},
                "counts": {"type": "object", "additionalProperties": {"type": "integer"}}}}),
        "404": _error("unknown source"),
        "503": _error("Redis unreachable", retry_after=True),
    },
}
PUBLISH_POST = {
    "summary": "Publish an event from an app backend",
    "security": [{"publisherKey": []}],
    "requestBody": {"required": True, "content": {JSON: {"schema": {
        "type": "object", "required": ["topic", "type"], "additionalProperties": False,
        "properties": {"topic": {"type": "string"}, "type": {"type": "string"},
                       "data": {}, "id": {"type": "string"}}}}}},
    "responses": {
        "202": _ok("appended to the event log", {"type": "object", "properties": {
            "id": {"type": "string"}, "position": {"type": "string"},
            "duplicate": {"type": "boolean"}}}),
        "400": _error("bad fields or topic"),
        "401": _error("missing or wrong publisher key"),
        "413": _error("body too large"),
        "415": _error("content type is not JSON"),
        "503": _error("event log unavailable", retry_after=True),
    },
}
STATUS = {"type": "object", "properties": {"status": {"type": "string"}}}
SQL_SNAPSHOT_GET = {
    "summary": "The current rows of a SQL watch on one topic, and the position to stream from",
    "description": "Bearer publish key, a subscriber JWT granting the topic (also "
                   "?access_token=), or none for a public topic. Load `rows`, then stream "
                   "the topic from `position` (lastEventId): nothing falls between.",
    "parameters": [
        {"name": "watch", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "topic", "in": "query", "required": True, "schema": {"type": "string"}},
    ],
    "responses": {
        "200": _ok("rows and position", {"type": "object", "properties": {
            "watch": {"type": "string"}, "topic": {"type": "string"},
            "rows": {"type": "array", "items": {"type": "object"}},
            "position": {"type": "string"}}}),
        "400": _error("missing topic, or a pattern instead of a topic"),
        "401": _error("no token for a private topic, or a bad token"),
        "403": _error("the token does not grant the topic"),
        "404": _error("no such watch"),
        "503": _error("Redis unavailable", retry_after=True),
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "hookstream ingress", "version": "0.1.0"},
    "paths": {
        "/webhooks/{source}": {"post": WEBHOOK_POST, "get": WEBHOOK_GET},
        "/publish": {"post": PUBLISH_POST},
        "/sql/{watch}/snapshot": {"get": SQL_SNAPSHOT_GET},
        "/healthz": {"get": {"summary": "Liveness", "responses": {"200": _ok("alive", STATUS)}}},
        "/readyz": {"get": {"summary": "Readiness (Redis reachable)", "responses": {
            "200": _ok("ready", STATUS), "503": _error("Redis unreachable", retry_after=True)}}},
        "/metrics": {"get": {"summary": "Prometheus metrics (counts of every ingress process)",
                             "responses": {
                                 "200": {"description": "Prometheus text exposition",
                                         "content": {"text/plain": {"schema": {
                                             "type": "string"}}}},
                                 "503": _error("Redis unreachable", retry_after=True)}}},
        "/openapi.json": {"get": {"summary": "This document",
                                  "responses": {"200": _ok("OpenAPI 3.1", {"type": "object"})}}},
    },
    "components": {
        "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {
            "error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}}}}}},
        "securitySchemes": {"publisherKey": {"type": "http", "scheme": "bearer"},
                            "subscriberToken": {"type": "http", "scheme": "bearer",
                                                "bearerFormat": "JWT"}},
    },
}
DOCUMENT["paths"].update(airtable_paths(_ok, _error))  # when [airtable] has a token


class OpenApi:
    def __init__(self) -> None:
        self._document = orjson.dumps(DOCUMENT)

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.data = self._document

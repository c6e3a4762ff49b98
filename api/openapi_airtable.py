"""The /airtable routes' part of the OpenAPI document (api/openapi.py merges it in)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Ok = Callable[[str, dict[str, Any]], dict[str, Any]]
Error = Callable[..., dict[str, Any]]

RECORD = {"type": "object", "required": ["id", "fields"], "properties": {
    "id": {"type": "string"}, "createdTime": {"type": "string"},
    "fields": {"type": "object"}}}
RECORDS = {"type": "object", "properties": {"records": {"type": "array", "items": RECORD}}}
JOB = {"type": "object", "required": ["job"], "properties": {"job": {"type": "string"}}}
JOB_STATE = {"type": "object", "properties": {
    "id": {"type": "string"},
    "state": {"enum": ["queued", "running", "waiting", "completed", "failed"]},
    "op": {"enum": ["create", "update", "upsert", "delete"]},
    "total": {"type": "integer"}, "succeeded": {"type": "integer"},
    "failed": {"type": "integer"}, "retry_at_ms": {"type": "integer"},
    "records": {"type": "array", "description": "per record: null (not done yet), "
                "{ok: true, id, fields} or {ok: false, error: conflict|not_found|..., "
                "current?}"}}}
BEARER: list[dict[str, list[str]]] = [{"publisherKey": []}, {"subscriberToken": []}]
BASE = {"name": "base", "in": "path", "required": True, "schema": {"type": "string"}}
TABLE = {"name": "table", "in": "path", "required": True,
         "schema": {"type": "string"}, "description": "table id or name"}
X_CACHE = {"X-Cache": {"description": "hit or miss", "schema": {"enum": ["hit", "miss"]}}}
LIST_PARAMS = [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
               for name in ("view", "filterByFormula", "fields[]", "sort[0][field]",
                            "sort[0][direction]", "maxRecords")]


def airtable_paths(ok: Ok, error: Error) -> dict[str, Any]:
    def read(description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {**ok(description, schema), "headers": X_CACHE}

    read_errors = {
        "400": error("bad id or query parameter"),
        "401": error("neither the publish key nor a valid token"),
        "403": error("the token does not grant airtable/{base}/{tableId}/+"),
        "404": error("no such table or record"),
        "503": error("the base is paused after a 429, or Airtable is down", retry_after=True)}
    write = {
        "summary": "Queue a write (any number of records, sent 10 at a time)",
        "security": [{"publisherKey": []}], "parameters": [BASE, TABLE],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["records"]}}}},
        "responses": {"202": ok("queued durably; Idempotency-Key gives the same job", JOB),
                      "400": error("malformed JSON, no records, bad ids or fields"),
                      "401": error("missing or wrong publish key"),
                      "413": error("body over ingress.max_body_bytes"),
                      "415": error("content type is not JSON"),
                      "503": error("Redis unreachable", retry_after=True)}}
    records = "/airtable/{base}/{table}/records"
    return {
        records: {
            "get": {"summary": "List records (cached; every page followed)", "security": BEARER,
                    "parameters": [BASE, TABLE, *LIST_PARAMS],
                    "responses": {"200": read("Airtable's records", RECORDS), **read_errors}},
            "post": {**write, "summary": "Create records (queued)"},
            "patch": {**write, "summary": "Update records, with expect or performUpsert"},
            "delete": {**write, "summary": "Delete records: {records: [ids]} (queued)"}},
        records + "/{record}": {
            "get": {"summary": "One record (cached)", "security": BEARER,
                    "parameters": [BASE, TABLE, {"name": "record", "in": "path",
                                                 "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": read("Airtable's record", RECORD), **read_errors}}},
        "/airtable/jobs/{job}": {
            "get": {"summary": "A write job's state and per-record results", "security": BEARER,
                    "parameters": [{"name": "job", "in": "path", "required": True,
                                    "schema": {"type": "string"}}],
                    "responses": {"200": ok("state and results", JOB_STATE),
                                  "401": error("neither the publish key nor a valid token"),
                                  "403": error("the token does not grant airtable/jobs/{job}"),
                                  "404": error("no such job")}}},
        "/airtable/stats": {
            "get": {"summary": "Cache hits/misses; requests, 429s and pauses per base",
                    "responses": {"200": ok("counters", {"type": "object"}),
                                  "503": error("Redis unreachable", retry_after=True)}}},
    }

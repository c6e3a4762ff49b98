"""The emulator's HTTP surface: Airtable's Web API paths and JSON shapes.

``create_app(emulator)`` wires the routes; every ``/v0`` request needs a bearer
token and passes the per-base and per-token rate limits before its handler runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domains.airtable.emulator import admin, records
from domains.airtable.emulator.errors import ApiProblem, RateLimited, invalid
from domains.airtable.emulator.http import answer, body_of, emulator_of
from domains.airtable.emulator.listing import page, query_from_json, query_from_params
from domains.airtable.emulator.state import Emulator
from domains.airtable.emulator.store import Table, TableChange
from domains.airtable.emulator.webhooks import MAX_PAYLOADS_PER_PAGE

Handler = Callable[[Request], Awaitable[Response]]


def guarded(handler: Handler) -> Handler:
    """Bearer token, then the per-base and per-token rate limits, then the handler."""

    async def run(request: Request) -> Response:
        emulator = emulator_of(request)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not emulator.token_ok(token.strip()):
            raise ApiProblem(401, "AUTHENTICATION_REQUIRED", "Authentication required")
        emulator.limiter.admit(request.path_params["base"], token.strip())
        return await handler(request)

    return run


def table_of(request: Request) -> tuple[Emulator, Table]:
    emulator = emulator_of(request)
    base = emulator.store.base(request.path_params["base"])
    return emulator, base.table(request.path_params["table"])


def commit(request: Request, table: Table, change: TableChange) -> None:
    emulator = emulator_of(request)
    emulator.commit(emulator.store.base(request.path_params["base"]), {table.id: change})


# -- records -------------------------------------------------------------------


async def list_records(request: Request) -> Response:
    _, table = table_of(request)
    params = {key: request.query_params.getlist(key) for key in request.query_params}
    return answer(page(table, query_from_params(params)))


async def list_records_post(request: Request) -> Response:
    _, table = table_of(request)
    return answer(page(table, query_from_json(await body_of(request))))


async def get_record(request: Request) -> Response:
    _, table = table_of(request)
    by_id = request.query_params.get("returnFieldsByFieldId", "").lower() in {"1", "true"}
    record = table.require_record(request.path_params["record"])
    return answer(table.render(record, by_id=by_id))


async def create_records(request: Request) -> Response:
    emulator, table = table_of(request)
    document = await body_of(request)
    single = isinstance(document, dict) and "records" not in document and "fields" in document
    items = [document] if single else records.batch(document)
    change = TableChange()
    created = records.create(table, items, now_s=emulator.clock.now_s(),
                             typecast=bool(document.get("typecast")), change=change)
    commit(request, table, change)
    by_id = bool(document.get("returnFieldsByFieldId"))
    rendered = [table.render(record, by_id=by_id) for record in created]
    return answer(rendered[0] if single else {"records": rendered})


async def update_records(request: Request) -> Response:
    emulator, table = table_of(request)
    document = await body_of(request)
    items = records.batch(document)
    typecast, replace = bool(document.get("typecast")), request.method == "PUT"
    by_id = bool(document.get("returnFieldsByFieldId"))
    change = TableChange()
    upsert = document.get("performUpsert")
    if isinstance(upsert, dict):
        result = records.upsert(table, items, list(upsert.get("fieldsToMergeOn") or []),
                                now_s=emulator.clock.now_s(), typecast=typecast,
                                replace=replace, change=change)
        commit(request, table, change)
        result["records"] = [table.render(r, by_id=by_id) for r in result["records"]]
        return answer(result)
    updated = records.update(table, items, typecast=typecast, replace=replace, change=change)
    commit(request, table, change)
    return answer({"records": [table.render(record, by_id=by_id) for record in updated]})


async def update_record(request: Request) -> Response:
    _, table = table_of(request)
    document = await body_of(request)
    item = {"id": request.path_params["record"], "fields": records.fields_of(document)}
    change = TableChange()
    updated = records.update(table, [item], typecast=bool(document.get("typecast")),
                             replace=request.method == "PUT", change=change)
    commit(request, table, change)
    return answer(table.render(updated[0], by_id=bool(document.get("returnFieldsByFieldId"))))


async def delete_records(request: Request) -> Response:
    _, table = table_of(request)
    change = TableChange()
    deleted = records.delete(table, request.query_params.getlist("records[]"), change=change)
    commit(request, table, change)
    return answer({"records": deleted})


async def delete_record(request: Request) -> Response:
    _, table = table_of(request)
    change = TableChange()
    deleted = records.delete(table, [request.path_params["record"]], change=change)
    commit(request, table, change)
    return answer(deleted[0])


# -- schema --------------------------------------------------------------------


async def base_schema(request: Request) -> Response:
    base = emulator_of(request).store.base(request.path_params["base"])
    return answer({"tables": [table.schema() for table in base.tables]})


async def list_bases(request: Request) -> Response:
    emulator = emulator_of(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not emulator.token_ok(token.strip()):
        raise ApiProblem(401, "AUTHENTICATION_REQUIRED", "Authentication required")
    return answer({"bases": [{"id": b.id, "name": b.name, "permissionLevel": "create"}
                             for b in emulator.store.bases.values()]})


# -- webhooks ------------------------------------------------------------------


async def create_webhook(request: Request) -> Response:
    emulator = emulator_of(request)
    base = emulator.store.base(request.path_params["base"])
    document = await body_of(request)
    hook = emulator.webhooks.create(base.id, document.get("notificationUrl"),
                                    document.get("specification"))
    return answer({"id": hook.id, "macSecretBase64": hook.mac_secret_base64,
                   "expirationTime": hook.describe()["expirationTime"]})


async def list_webhooks(request: Request) -> Response:
    emulator = emulator_of(request)
    base = emulator.store.base(request.path_params["base"])
    return answer({"webhooks": [h.describe() for h in emulator.webhooks.active(base.id).values()]})


async def delete_webhook(request: Request) -> Response:
    emulator = emulator_of(request)
    emulator.webhooks.delete(request.path_params["base"], request.path_params["webhook"])
    return answer({})


async def refresh_webhook(request: Request) -> Response:
    emulator = emulator_of(request)
    hook = emulator.webhooks.refresh(request.path_params["base"], request.path_params["webhook"])
    return answer({"expirationTime": hook.describe()["expirationTime"]})


async def enable_notifications(request: Request) -> Response:
    emulator = emulator_of(request)
    hook = emulator.webhooks.get(request.path_params["base"], request.path_params["webhook"])
    hook.notifications_enabled = bool((await body_of(request)).get("enable"))
    return answer({})


async def list_payloads(request: Request) -> Response:
    emulator = emulator_of(request)
    hook = emulator.webhooks.get(request.path_params["base"], request.path_params["webhook"])
    cursor = int(request.query_params.get("cursor", "1") or 1)
    limit = int(request.query_params.get("limit", str(MAX_PAYLOADS_PER_PAGE)))
    if not 1 <= limit <= MAX_PAYLOADS_PER_PAGE:
        raise invalid("INVALID_REQUEST_UNKNOWN", "limit must be 1 to 50")
    return answer(hook.page(cursor, limit))


# -- wiring --------------------------------------------------------------------


async def on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    headers = {"Retry-After": str(max(1, round(exc.retry_after_s)))} \
        if isinstance(exc, RateLimited) else None
    return JSONResponse(exc.document(), status_code=exc.status, headers=headers)


def routes() -> list[Route]:
    hooks = "/v0/bases/{base}/webhooks"
    records_path = "/v0/{base}/{table}"
    return [
        Route("/v0/meta/bases", list_bases, methods=["GET"]),
        Route("/v0/meta/bases/{base}/tables", guarded(base_schema), methods=["GET"]),
        Route(hooks, guarded(list_webhooks), methods=["GET"]),
        Route(hooks, guarded(create_webhook), methods=["POST"]),
        Route(hooks + "/{webhook}", guarded(delete_webhook), methods=["DELETE"]),
        Route(hooks + "/{webhook}/refresh", guarded(refresh_webhook), methods=["POST"]),
        Route(hooks + "/{webhook}/enableNotifications", guarded(enable_notifications),
              methods=["POST"]),
        Route(hooks + "/{webhook}/payloads", guarded(list_payloads), methods=["GET"]),
        *admin.routes(),
        Route(records_path + "/listRecords", guarded(list_records_post), methods=["POST"]),
        Route(records_path, guarded(list_records), methods=["GET"]),
        Route(records_path, guarded(create_records), methods=["POST"]),
        Route(records_path, guarded(update_records), methods=["PATCH", "PUT"]),
        Route(records_path, guarded(delete_records), methods=["DELETE"]),
        Route(records_path + "/{record}", guarded(get_record), methods=["GET"]),
        Route(records_path + "/{record}", guarded(update_record), methods=["PATCH", "PUT"]),
        Route(records_path + "/{record}", guarded(delete_record), methods=["DELETE"]),
    ]


def create_app(emulator: Emulator) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await emulator.pinger.close()

    app = Starlette(routes=routes(), exception_handlers={ApiProblem: on_problem},
                    lifespan=lifespan)
    app.state.emulator = emulator
    return app

"""The emulator's admin API (no token, no rate limit): what tests, the demo and the bench
need beyond Airtable's own API.

    POST /_admin/bases                              create a base from a seed-shaped document
    POST /_admin/bases/{base}/changes               a change "by a person" (not the API):
         {"table", "create": [{"fields"}], "update": [{"id", "fields"}], "delete": [ids],
          "split": N (payloads sharing one transaction number), "ping": true}
    POST /_admin/bases/{base}/tables                {"name", "fields": [{"name", "type"}]}
    POST /_admin/bases/{base}/tables/{table}/fields {"name", "type"}: a new field
    GET  /_admin/bases/{base}/stats                 request counts, 429s, busiest second
    POST /_admin/bases/{base}/stats/reset
    POST /_admin/bases/{base}/webhooks/{webhook}/expire
    POST /_admin/bases/{base}/webhooks/{webhook}/ping   send a fresh ping now
    GET  /_admin/bases/{base}/webhooks/{webhook}/pings  pings sent (body, headers, status, time)
    GET  /_admin/bases/{base}/webhooks/{webhook}/fetches payload listings served (time, txns)
    GET  /_admin/webhooks/expired                   webhooks that expired
    POST /_admin/clock {"advance_s"}                move the wall clock forward
    POST /_admin/limits {"rate_per_s", "token_rate_per_s", "penalty_s"}
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domains.airtable.emulator import records
from domains.airtable.emulator.clock import iso
from domains.airtable.emulator.errors import invalid
from domains.airtable.emulator.http import answer, body_of, emulator_of
from domains.airtable.emulator.state import person_action
from domains.airtable.emulator.store import TableChange


async def create_base(request: Request) -> Response:
    emulator = emulator_of(request)
    document = await body_of(request)
    before = set(emulator.store.bases)
    emulator.store.load({"bases": [document]}, now_s=emulator.clock.now_s())
    (base_id,) = set(emulator.store.bases) - before
    base = emulator.store.base(base_id)
    return answer({"id": base.id, "name": base.name,
                    "tables": [table.schema() for table in base.tables]}, 201)


async def change(request: Request) -> Response:
    emulator = emulator_of(request)
    base = emulator.store.base(request.path_params["base"])
    document = await body_of(request)
    table = base.table(str(document.get("table")))
    delta = TableChange()
    now_s = emulator.clock.now_s()
    created = [table.create(records.fields_of(item), now_s=now_s, typecast=True, change=delta)
               for item in document.get("create", [])]
    for item in document.get("update", []):
        table.update(item["id"], records.fields_of(item), typecast=True, replace=False,
                     change=delta)
    for record_id in document.get("delete", []):
        table.delete(record_id, change=delta)
    transaction = emulator.commit(base, {table.id: delta}, action=person_action(
        document.get("user")), split=int(document.get("split", 1)),
        ping=bool(document.get("ping", True)))
    return answer({"transaction": transaction.number if transaction else None,
                    "created": [table.render(record) for record in created]})


async def add_table(request: Request) -> Response:
    base = emulator_of(request).store.base(request.path_params["base"])
    document = await body_of(request)
    table = base.add_table(str(document.get("name")), list(document.get("fields") or []))
    return answer(table.schema(), 201)


async def add_field(request: Request) -> Response:
    emulator = emulator_of(request)
    table = emulator.store.base(request.path_params["base"]).table(request.path_params["table"])
    document = await body_of(request)
    added = table.add_field(str(document.get("name")), str(document.get("type",
                                                                         "singleLineText")))
    return answer(added.schema(), 201)


async def stats(request: Request) -> Response:
    return answer(emulator_of(request).limiter.stats(request.path_params["base"]))


async def reset_stats(request: Request) -> Response:
    emulator_of(request).limiter.reset(request.path_params["base"])
    return answer({})


async def expire_webhook(request: Request) -> Response:
    emulator = emulator_of(request)
    hook = emulator.webhooks.get(request.path_params["base"], request.path_params["webhook"])
    hook.expiration_s = emulator.clock.now_s()
    emulator.webhooks.active(hook.base_id)
    return answer({"expired": hook.id})


async def ping_webhook(request: Request) -> Response:
    emulator = emulator_of(request)
    hook = emulator.webhooks.get(request.path_params["base"], request.path_params["webhook"])
    await emulator.pinger.deliver(hook)
    return answer({"result": hook.last_result})


async def pings(request: Request) -> Response:
    emulator = emulator_of(request)
    return answer({"pings": emulator.pinger.sent.get(request.path_params["webhook"], [])})


async def fetches(request: Request) -> Response:
    emulator = emulator_of(request)
    hook = emulator.webhooks.get(request.path_params["base"], request.path_params["webhook"])
    return answer({"fetches": hook.fetches})


async def expired(request: Request) -> Response:
    emulator = emulator_of(request)
    for base_id in list(emulator.webhooks.by_base):
        emulator.webhooks.active(base_id)
    return answer({"expired": emulator.webhooks.expired})


async def clock(request: Request) -> Response:
    emulator = emulator_of(request)
    if request.method == "POST":
        emulator.clock.advance(float((await body_of(request)).get("advance_s", 0)))
    return answer({"now": iso(emulator.clock.now_s()), "offset_s": emulator.clock.offset_s})


async def limits(request: Request) -> Response:
    limiter = emulator_of(request).limiter
    document = await body_of(request)
    wanted = {name: document[name] for name in LIMITS if name in document}
    for name, value in wanted.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < LIMITS[name]:
            raise invalid("INVALID_REQUEST_UNKNOWN",
                          f"{name} must be a number of at least {LIMITS[name]}")
    limiter.rate_per_s = int(wanted.get("rate_per_s", limiter.rate_per_s))
    limiter.token_rate_per_s = int(wanted.get("token_rate_per_s", limiter.token_rate_per_s))
    limiter.penalty_s = float(wanted.get("penalty_s", limiter.penalty_s))
    return answer({"rate_per_s": limiter.rate_per_s, "token_rate_per_s": limiter.token_rate_per_s,
                   "penalty_s": limiter.penalty_s})


LIMITS = {"rate_per_s": 1, "token_rate_per_s": 1, "penalty_s": 0}


def routes() -> list[Route]:
    base = "/_admin/bases/{base}"
    hook = base + "/webhooks/{webhook}"
    return [
        Route("/_admin/bases", create_base, methods=["POST"]),
        Route(base + "/changes", change, methods=["POST"]),
        Route(base + "/tables", add_table, methods=["POST"]),
        Route(base + "/tables/{table}/fields", add_field, methods=["POST"]),
        Route(base + "/stats", stats, methods=["GET"]),
        Route(base + "/stats/reset", reset_stats, methods=["POST"]),
        Route(hook + "/expire", expire_webhook, methods=["POST"]),
        Route(hook + "/ping", ping_webhook, methods=["POST"]),
        Route(hook + "/pings", pings, methods=["GET"]),
        Route(hook + "/fetches", fetches, methods=["GET"]),
        Route("/_admin/webhooks/expired", expired, methods=["GET"]),
        Route("/_admin/clock", clock, methods=["GET", "POST"]),
        Route("/_admin/limits", limits, methods=["POST"]),
    ]

"""Airtable actors: thin adapters over `domains.airtable` (the logic lives there).

A verified ping for a source of kind ``airtable`` reaches `handle_ping` from
``process_delivery`` (workers/actors.py) or through `process_airtable_ping`;
either way the change sync fetches the webhook's payloads and publishes record
events. Periodic jobs for the scheduler: `refresh_airtable_webhooks` (daily is
plenty: Airtable expires a webhook after 7 days) and `poll_airtable_webhooks`
(every minute: catches up a webhook whose ping was lost).
"""

from __future__ import annotations

import dramatiq
import orjson
import structlog
from pyairtable import Api

from domains.airtable.errors import Gone, MustWait
from domains.airtable.services import READ_MAX_WAIT_S, build_budgeted_api
from domains.airtable.sync import ChangeSync, LeaseBusy
from domains.airtable.webhooks import Webhooks, poll_webhooks
from workers.broker import context, settings
from workers.errors import Permanent, RateLimited, classified
from workers.policies import actor_options

log = structlog.get_logger(__name__)
MIN_RETRY_S = 0.2


def airtable_api() -> Api:
    """This process's pyairtable client, under the request budget every process shares."""
    return context().service("airtable.api", lambda ctx: build_budgeted_api(
        ctx.redis, ctx.settings, max_wait_s=READ_MAX_WAIT_S))


def change_sync(source: str) -> ChangeSync:
    ctx = context()
    return ChangeSync(ctx.redis, ctx.event_log, airtable_api,
                      namespace=settings.workers.namespace, source=source)


def webhooks() -> Webhooks:
    return Webhooks(context().redis, airtable_api, namespace=settings.workers.namespace)


def ping_ids(body: str) -> tuple[str, str]:
    """The base id and webhook id a notification ping names."""
    try:
        ping = orjson.loads(body)
        return str(ping["base"]["id"]), str(ping["webhook"]["id"])
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise Permanent(f"not an Airtable notification ping: {exc}") from None


def handle_ping(source: str, body: str) -> None:
    base, webhook = ping_ids(body)
    structlog.contextvars.bind_contextvars(base=base, webhook=webhook)
    try:
        result = change_sync(source).on_ping(base, webhook)
    except LeaseBusy as exc:
        raise RateLimited(str(exc), retry_after_s=max(MIN_RETRY_S, exc.retry_after_s)) from exc
    except MustWait as exc:  # the base is paused (a 429) or Airtable is unreachable
        raise RateLimited(str(exc), retry_after_s=max(MIN_RETRY_S, exc.retry_after_s)) from exc
    except Gone as exc:
        webhooks().report_gone(base, webhook, "payloads answered 404: expired or deleted")
        raise Permanent(f"webhook {webhook} is gone") from exc
    finally:
        structlog.contextvars.unbind_contextvars("base", "webhook")
    log.info("airtable.ping_processed", base=base, webhook=webhook,
             transactions=result.transactions, published=result.published,
             duplicates=result.duplicates)


@dramatiq.actor(queue_name=settings.workers.queue,
                **actor_options(settings.workers, "process_airtable_ping"))
@classified
def process_airtable_ping(source: str, body: str) -> None:
    handle_ping(source, body)


@dramatiq.actor(queue_name=settings.workers.periodic_queue,
                **actor_options(settings.workers, "poll_airtable_webhooks"))
@classified
def poll_airtable_webhooks() -> None:
    """Periodic (every minute or so): run the sync of every stored webhook, in case a ping
    was lost (Airtable does not promise delivery); a webhook being processed is skipped."""
    outcomes = poll_webhooks(change_sync("airtable"), webhooks())
    log.info("airtable.webhooks_polled", outcomes=outcomes)


@dramatiq.actor(queue_name=settings.workers.periodic_queue,
                **actor_options(settings.workers, "refresh_airtable_webhooks"))
@classified
def refresh_airtable_webhooks() -> None:
    """Periodic (daily): extend every stored webhook before Airtable's 7-day expiry."""
    outcomes = webhooks().refresh_all()
    log.info("airtable.webhooks_refreshed", refreshed=sum(v != "gone" for v in outcomes.values()),
             gone=sum(v == "gone" for v in outcomes.values()))

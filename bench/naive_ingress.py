"""The naive baseline the ingress is measured against (bench only, never deployed).

Falcon WSGI under gunicorn sync workers; each request verifies the Standard
Webhooks signature and calls dramatiq's ``send()`` (one RedisBroker enqueue per
request, no dedupe). ``/trivial`` answers 202 after reading the body: the same
server's ceiling. Run: ``gunicorn -k sync 'bench.naive_ingress:get_app()'``
with HOOKSTREAM_CONFIG / HOOKSTREAM_REDIS_URL set.
"""

from __future__ import annotations

import time
from typing import Any

import dramatiq
import falcon
from dramatiq.brokers.redis import RedisBroker

from api.verifiers import InvalidSignature, build_verifier
from common.settings import load_settings


class Trivial:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = b'{"ok":true}'

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.bounded_stream.read()
        resp.status = falcon.HTTP_202
        resp.data = b'{"ok":true}'


class NaiveWebhooks:
    def __init__(self, verifiers: dict[str, Any], actor: Any) -> None:
        self._verifiers = verifiers
        self._actor = actor

    def on_post(self, req: falcon.Request, resp: falcon.Response, source: str) -> None:
        body = req.bounded_stream.read()
        headers = {name.lower(): value for name, value in req.headers.items()}
        try:
            verified = self._verifiers[source].verify(body, headers)
        except InvalidSignature as exc:
            raise falcon.HTTPUnauthorized(description=str(exc)) from None
        event_id = f"{source}.{verified.delivery_id}"
        self._actor.send(source, event_id, body.decode(), int(time.time() * 1000))
        resp.status = falcon.HTTP_202
        resp.data = b'{"id":"%s"}' % event_id.encode()


def get_app() -> falcon.App[Any, Any]:
    settings = load_settings()
    broker = RedisBroker(url=settings.require_redis_url(),  # type: ignore[no-untyped-call]
                         namespace=settings.workers.namespace)
    dramatiq.set_broker(broker)

    @dramatiq.actor(queue_name=settings.workers.queue, actor_name="process_delivery")
    def process_delivery(source: str, event_id: str, body: str, received_at_ms: int) -> None:
        """Never run here: the bench only counts what is enqueued."""

    verifiers = {name: build_verifier(name, config) for name, config in settings.sources.items()}
    app = falcon.App()
    app.add_route("/webhooks/{source}", NaiveWebhooks(verifiers, process_delivery))
    app.add_route("/trivial", Trivial())
    return app

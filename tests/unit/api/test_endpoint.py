"""The bare ASGI webhook endpoint, driven with raw ASGI messages: what Falcon used to do
for it (request ids, chunked bodies, disconnects, unexpected errors) it does itself."""

import time

import orjson
import pytest

from api.app import create_app
from api.asgi import webhook_source
from api.bodies import ClientGone, read_asgi_body
from api.errors import BadRequest, PayloadTooLarge
from api.queue import MemoryQueue
from api.stats import MemoryStats
from api.verifiers.standard import sign

pytestmark = pytest.mark.anyio
BODY = b'{"type":"order.paid","n":1}'


class Exchange:
    """One request through the app: *chunks* as http.request messages, the answer recorded."""

    def __init__(self, app):
        self.app = app
        self.sent = []

    async def post(self, path, headers, chunks, *, disconnect=False, extra=()):
        messages = [{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
                    for i, chunk in enumerate(chunks)]
        if disconnect:
            messages = [*messages[:-1], {"type": "http.disconnect"}]

        async def receive():
            return messages.pop(0)

        async def send(message):
            self.sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": path, "root_path": "",
                 "query_string": b"", "server": ("127.0.0.1", 8000), "headers": [
            (name.lower().encode(), value.encode())
            for name, value in [*headers.items(), *extra]]}
        await self.app(scope, receive, send)
        return self

    @property
    def status(self):
        return self.sent[0]["status"]

    @property
    def headers(self):
        return {name.decode(): value.decode() for name, value in self.sent[0]["headers"]}

    @property
    def json(self):
        return orjson.loads(self.sent[1]["body"])


@pytest.fixture
def queue():
    return MemoryQueue()


@pytest.fixture
def app(make_settings, queue):
    settings = make_settings(ingress={"max_body_bytes": 100})
    return create_app(settings, queue=queue, stats=MemoryStats(), publisher=None, ping=None,
                      backlog=None)


def headers_for(secret, body=BODY, msg_id="msg_1"):
    return {**sign(secret, msg_id, int(time.time()), body), "Content-Type": "application/json"}


async def test_a_chunked_body_is_read_whole_and_a_request_id_is_given(app, queue, demo_secret):
    result = await Exchange(app).post("/webhooks/demo", headers_for(demo_secret),
                                      [BODY[:5], BODY[5:12], BODY[12:]])
    assert result.status == 202 and result.json["id"] == "demo.msg_1"
    assert len(result.headers["x-request-id"]) == 24
    assert result.headers["content-length"] == str(len(result.sent[1]["body"]))
    assert queue.deliveries[0].body == BODY.decode()


async def test_the_callers_request_id_is_echoed(app, demo_secret):
    headers = {**headers_for(demo_secret), "X-Request-Id": "trace-42"}
    result = await Exchange(app).post("/webhooks/demo", headers, [BODY])
    assert result.headers["x-request-id"] == "trace-42"


async def test_a_body_over_the_cap_midstream_is_413_and_nothing_is_queued(app, queue,
                                                                          demo_secret):
    big = b'{"x":"' + b"a" * 200 + b'"}'
    result = await Exchange(app).post("/webhooks/demo", headers_for(demo_secret, big),
                                      [big[:60], big[60:120], big[120:]])
    assert result.status == 413 and result.json["error"]["code"] == "payload_too_large"
    assert queue.deliveries == []


async def test_a_client_that_leaves_mid_body_gets_nothing_and_nothing_is_queued(
        app, queue, demo_secret):
    result = await Exchange(app).post("/webhooks/demo", headers_for(demo_secret),
                                      [BODY[:5], BODY[5:]], disconnect=True)
    assert result.sent == [] and queue.deliveries == []


async def test_an_unexpected_error_is_a_json_500_not_a_crash(app, queue, demo_secret):
    queue.fail_with = None

    async def broken(delivery, policy):
        raise RuntimeError("a bug")

    queue.admit = broken
    result = await Exchange(app).post("/webhooks/demo", headers_for(demo_secret), [BODY])
    assert result.status == 500 and result.json["error"]["code"] == "internal_error"
    assert "a bug" not in result.sent[1]["body"].decode()


@pytest.mark.parametrize(("method", "path", "source"), [
    ("POST", "/webhooks/demo", "demo"), ("GET", "/webhooks/demo", None),
    ("POST", "/webhooks/", None), ("POST", "/webhooks/a/b", None), ("POST", "/publish", None),
])
def test_only_post_to_one_source_takes_the_bare_path(method, path, source):
    assert webhook_source({"type": "http", "method": method, "path": path}) == source


async def test_other_webhook_paths_get_falcons_json_404(app):
    result = await Exchange(app).post("/webhooks/a/b", {"Content-Type": "application/json"},
                                      [BODY])
    assert result.status == 404
    assert result.json["error"]["code"] == "not_found"


async def test_read_asgi_body_checks_the_declared_length_first():
    async def never():
        raise AssertionError("read before the declared length was checked")

    with pytest.raises(PayloadTooLarge):
        await read_asgi_body(never, "101", max_bytes=100)
    with pytest.raises(BadRequest):
        await read_asgi_body(never, "ten", max_bytes=100)

    async def gone():
        return {"type": "http.disconnect"}

    with pytest.raises(ClientGone):
        await read_asgi_body(gone, None, max_bytes=100)


async def test_a_repeated_content_type_counts_once_as_falcon_did(app, queue, demo_secret):
    result = await Exchange(app).post("/webhooks/demo", headers_for(demo_secret), [BODY],
                                 extra=[("content-type", "application/json")])
    assert result.status == 202 and len(queue.deliveries) == 1


async def test_a_sender_that_hangs_up_mid_body_is_counted(make_settings, demo_secret):
    stats = MemoryStats()
    app = create_app(make_settings(), queue=MemoryQueue(), stats=stats, publisher=None,
                     ping=None, backlog=None)
    await Exchange(app).post("/webhooks/demo", headers_for(demo_secret), [BODY[:5], BODY[5:]],
                             disconnect=True)
    assert (await stats.read("demo"))["rejected:client_gone"] == 1

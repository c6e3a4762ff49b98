"""The dashboard's stream: its token check, and one feed shared by every open stream."""

import asyncio
import json
import time

import pytest
import redis
import redis.asyncio
from pydantic import SecretStr
from starlette.requests import Request

from common.telemetry import figure
from common.telemetry.reporter import Identity, queue_report
from streamer.dashboard import DashboardFeed, FrameStream, refusal

TOKEN = SecretStr("admin-token-0123456789abcdef")


def request_with(headers):
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/dashboard/stream",
                    "headers": raw, "query_string": b""})


def test_the_token_is_checked():
    assert refusal(request_with({"Authorization": f"Bearer {TOKEN.get_secret_value()}"}),
                   TOKEN) is None
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nope"},
                    {"Authorization": "Bearer"}):
        answer = refusal(request_with(headers), TOKEN)
        assert answer is not None and answer.status_code == 401, headers
        assert answer.headers["www-authenticate"].startswith("Bearer")
    disabled = refusal(request_with({"Authorization": "Bearer anything"}), None)
    assert disabled is not None and disabled.status_code == 403
    assert json.loads(disabled.body)["error"]["code"] == "dashboard_disabled"


def report(redis_url, role, figures):
    client = redis.Redis.from_url(redis_url)
    pipe = client.pipeline(transaction=True)
    queue_report(pipe, "hookstream", Identity.new(role), figures,
                 at_ms=int(time.time() * 1000), ttl_ms=60_000)
    pipe.execute()
    client.close()


def view_of(frame: bytes):
    head, _, data = frame.partition(b"\ndata: ")
    assert head == b"event: figures"
    return json.loads(data)


@pytest.mark.anyio
async def test_streams_share_one_feed_that_stops_with_the_last(redis_url):
    report(redis_url, "streamer", [figure("streamer_connections", 3)])
    client = redis.asyncio.Redis.from_url(redis_url)
    feed = DashboardFeed(client, "hookstream", interval_s=0.05)
    one = feed.frames(stopping=lambda: False)
    first = view_of(await anext(one))
    assert first["figures"]["streamer_connections"][0]["value"] == 3.0
    assert [p["role"] for p in first["processes"]] == ["streamer"]
    two = feed.frames(stopping=lambda: False)
    assert view_of(await anext(two))["at_ms"] >= first["at_ms"]  # the newest, at once
    await one.aclose()
    assert feed._task is not None
    await two.aclose()
    assert feed._task is None
    await client.aclose()


@pytest.mark.anyio
async def test_a_stream_ends_when_the_client_hangs_up(redis_url):
    client = redis.asyncio.Redis.from_url(redis_url)
    feed = DashboardFeed(client, "hookstream", interval_s=0.05)
    sent, hang_up = [], asyncio.Event()

    async def receive():
        await hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if len(sent) == 3:
            hang_up.set()

    await asyncio.wait_for(FrameStream(feed.frames(stopping=lambda: False))({}, receive, send),
                           10)
    assert sent[0]["status"] == 200
    assert (b"content-type", b"text/event-stream; charset=utf-8") in sent[0]["headers"]
    assert feed._task is None and not feed._listeners
    await client.aclose()


@pytest.mark.anyio
async def test_a_draining_streamer_ends_the_stream(redis_url):
    client = redis.asyncio.Redis.from_url(redis_url)
    feed = DashboardFeed(client, "hookstream", interval_s=0.05)
    draining = False
    frames = feed.frames(stopping=lambda: draining)
    await anext(frames)
    draining = True
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(frames), 5)
    assert feed._task is None
    await client.aclose()


def test_the_hub_reports_streams_by_topic_and_subject_capped():
    from streamer.figures import HubFigures
    from streamer.hub import Hub
    from streamer.limits import ConnectionLimits
    from streamer.subscriber import Subscriber

    hub = Hub(None, "log", heartbeat_s=15)
    limits = ConnectionLimits(max_total=100, max_per_subject=100, retry_after_s=1)
    for pattern, subject in [("a/#", "alice"), ("a/#", "bob"),
                             ("b/+", "alice"), ("c", None)]:
        hub.attach(Subscriber((pattern,), max_events=10, max_bytes=10_000))
        limits.acquire(subject)
    hub.stats.closes["slow_consumer"] = 2
    found = {(f.name, f.labels): f.value for f in HubFigures(hub, limits,
                                                            max_labels=2).figures()}
    assert found[("streamer_connections", ())] == 4
    assert found[("streamer_connections_by_topic", (("topic", "a/#"),))] == 2
    assert sum(value for (name, _), value in found.items()
               if name == "streamer_connections_by_topic") == 4
    assert found[("streamer_connections_by_topic", (("topic", "(other)"),))] == 1
    assert found[("streamer_connections_by_subject", (("subject", "alice"),))] == 2
    assert sum(value for (name, _), value in found.items()
               if name == "streamer_connections_by_subject") == 4
    assert found[("streamer_closes_total", (("reason", "slow_consumer"),))] == 2

"""History replay and hub dispatch against the session's real Valkey."""

import asyncio
import contextlib

import pytest

from common.events import Event
from common.publishing import EventLog
from common.redis import connect, connect_async
from common.settings import EventLogSettings
from streamer.history import History
from streamer.hub import Hub
from streamer.positions import ORIGIN, to_position
from streamer.subscriber import Subscriber

KEY = EventLogSettings().stream_key


def publish_all(redis_url, topics, *, max_len=100_000):
    log = EventLog(connect(redis_url), EventLogSettings(max_len=max_len))
    return [log.publish(Event(topic=t, type="t", data={"n": n}, source="s")).position
            for n, t in enumerate(topics)]


@contextlib.asynccontextmanager
async def running_hub(redis_url, *, heartbeat_s):
    client = connect_async(redis_url)
    hub = Hub(client, KEY, heartbeat_s=heartbeat_s)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()
        await client.aclose()


async def collect(history, after, until, patterns):
    return b"".join([chunk async for chunk in history.replay(after, until, patterns)])


@pytest.mark.anyio
async def test_replay_returns_the_exclusive_range_filtered_by_patterns_in_batches(redis_url):
    positions = publish_all(redis_url, ["a/1", "b/1", "a/2", "c", "a/3/x", "a/4"])
    client = connect_async(redis_url)
    history = History(client, KEY, batch=2)
    body = await collect(history, to_position(positions[0]), to_position(positions[4]),
                         ("a/+", "c"))
    ids = [line[4:].decode() for line in body.split(b"\n") if line.startswith(b"id: ")]
    assert ids == [positions[2], positions[3]]
    assert await history.knows(to_position(positions[-1]))
    assert not await history.knows((to_position(positions[-1])[0] + 1, 0))
    await client.aclose()


@pytest.mark.anyio
async def test_replay_from_before_a_trim_starts_with_reset(redis_url):
    positions = publish_all(redis_url, ["a"] * 400, max_len=100)
    client = connect_async(redis_url)
    history = History(client, KEY, batch=50)
    body = await collect(history, to_position(positions[0]), to_position(positions[-1]), ("a",))
    assert body.startswith(b"id: " + positions[-1].encode() + b"\nevent: reset\n")
    assert body.count(b"event: ") == 1
    recent = await collect(history, to_position(positions[-3]), to_position(positions[-1]), ("a",))
    assert recent.count(b"event: t") == 2
    await client.aclose()


@pytest.mark.anyio
async def test_replay_from_the_origin_of_an_untrimmed_log_is_complete(redis_url):
    positions = publish_all(redis_url, ["a", "a"])
    client = connect_async(redis_url)
    body = await collect(History(client, KEY, batch=10), ORIGIN, to_position(positions[-1]),
                         ("#",))
    assert body.count(b"event: t") == 2 and b"reset" not in body
    await client.aclose()


@pytest.mark.anyio
async def test_the_hub_reads_the_log_and_delivers_matching_events_only(redis_url):
    async with running_hub(redis_url, heartbeat_s=0.2) as hub:
        wanted = Subscriber(("orders/+",), max_events=100, max_bytes=100_000)
        other = Subscriber(("chat/#",), max_events=100, max_bytes=100_000)
        hub.attach(wanted)
        hub.attach(other, expires_at_s=0.0)
        positions = publish_all(redis_url, ["orders/1", "news", "orders/2"])
        for _ in range(100):
            if hub.last_position == positions[-1] and other.closed:
                break
            await asyncio.sleep(0.05)
        body = wanted.take()
        assert body.count(b"id: ") == 2 and b"news" not in body
        assert other.close_reason == "token_expired"
        assert hub.stats.events == 3 and hub.stats.deliveries == 2
        beats = b""
        for _ in range(200):  # heartbeats every 0.2 s
            beats += wanted.take()
            if b": hb" in beats:
                break
            await asyncio.sleep(0.05)
        assert b": hb" in beats


@pytest.mark.anyio
async def test_drain_closes_every_stream_and_refuses_new_ones(redis_url):
    async with running_hub(redis_url, heartbeat_s=15) as hub:
        subs = [Subscriber(("a",), max_events=10, max_bytes=10_000) for _ in range(20)]
        for sub in subs:
            hub.attach(sub)
        hub.drain(0.2)
        assert hub.draining
        for _ in range(200):  # the drain window is 0.2 s
            if all(sub.closed for sub in subs):
                break
            await asyncio.sleep(0.05)
        assert all(sub.close_reason == "shutdown" for sub in subs)

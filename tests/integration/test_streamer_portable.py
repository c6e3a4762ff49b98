"""The streamer under another ASGI server: its portable peer path, end to end.

hypercorn hands the app ``asyncio.Queue.get`` as ``receive``, not uvicorn's
request cycle, so `streamer.peers.peer_of` picks `WatchedPeer`: every frame goes
through ASGI ``send``, one task per stream waits for ``http.disconnect``, and
cutting a slow client cancels its stream.
"""

import pytest

from tests.integration.streamer_support import (
    big_event,
    drained,
    publish,
    publisher,
    stalled_client,
)
from tests.sse_client import SseReader

pytestmark = pytest.mark.integration


@pytest.fixture
def streamer(start_streamers):
    return start_streamers(1, server="hypercorn")


def test_live_events_heartbeats_and_the_retry_hint(streamer, redis_url):
    reader = SseReader(f"{streamer.urls[0]}/events", params={"topic": "public/live/#"})
    try:
        hello = reader.wait_connected().events.get(timeout=10)
        assert hello.retry == 3000
        heartbeat = reader.events.get(timeout=10)
        assert heartbeat.comments == ["hb"]
        log = publisher(redis_url)
        sent = [publish(log, f"public/live/{n}", n) for n in range(20)]
        publish(log, "public/other", 0)
        assert [reader.next_event(timeout_s=15).id for _ in sent] == sent
    finally:
        reader.close()


def test_resume_with_last_event_id_replays_what_was_missed_then_goes_live(streamer,
                                                                          redis_url):
    url, log = f"{streamer.urls[0]}/events", publisher(redis_url)
    first = SseReader(url, params={"topic": "public/resume"}).wait_connected()
    seen = [publish(log, "public/resume", n) for n in range(3)]
    assert [first.next_event(timeout_s=15).id for _ in seen] == seen
    first.close()
    missed = [publish(log, "public/resume", n) for n in range(3, 8)]
    second = SseReader(url, params={"topic": "public/resume"},
                       headers={"Last-Event-ID": seen[-1]}).wait_connected()
    try:
        live = [publish(log, "public/resume", n) for n in range(8, 10)]
        assert [second.next_event(timeout_s=15).id for _ in missed + live] == missed + live
    finally:
        second.close()


def test_a_departed_client_is_noticed_and_its_connection_released(streamer):
    readers = [SseReader(f"{streamer.urls[0]}/events", params={"topic": "public/quiet"})
               .wait_connected() for _ in range(2)]
    assert streamer.wait_stats(lambda s: s["connections"] == 2)["connections"] == 2
    readers[0].close()
    stats = streamer.wait_stats(lambda s: s["connections"] == 1)
    assert stats["connections"] == 1 and stats["closes"].get("client_gone") == 1, stats
    readers[1].close()
    assert streamer.wait_stats(lambda s: s["connections"] == 0)["connections"] == 0


def test_a_slow_client_is_cut_while_a_fast_one_gets_everything(streamer, redis_url):
    fast = SseReader(f"{streamer.urls[0]}/events", params={"topic": "public/bulk"}).wait_connected()
    slow = stalled_client(streamer.urls[0], "public/bulk")
    streamer.wait_stats(lambda s: s["connections"] == 2)
    log = publisher(redis_url)
    try:
        sent = [log.publish(big_event(n)).position for n in range(600)]
        assert [fast.next_event(timeout_s=30).id for _ in sent] == sent
        stats = streamer.wait_stats(lambda s: s["closes"].get("slow_consumer", 0) >= 1)
        assert stats["closes"].get("slow_consumer") == 1, stats
        assert drained(slow)
        stats = streamer.wait_stats(lambda s: s["connections"] == 1)
        assert stats["connections"] == 1, stats
    finally:
        fast.close()
        slow.close()

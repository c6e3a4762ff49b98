"""Connection care with real processes: slow clients, SIGTERM drain, heartbeats, CORS, stats."""

import signal
import threading
import time

import httpx
import pytest

from tests.integration.streamer_support import (
    CORS_ORIGIN,
    big_event,
    drained,
    publish,
    publisher,
    stalled_client,
)
from tests.sse_client import SseReader
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def test_a_slow_client_is_cut_while_a_fast_one_gets_everything(start_streamers, redis_url):
    streamer = start_streamers(1)
    fast = SseReader(f"{streamer.urls[0]}/events", params={"topic": "public/bulk"}).wait_connected()
    slow = stalled_client(streamer.urls[0], "public/bulk")
    streamer.wait_stats(lambda s: s["connections"] == 2)
    log = publisher(redis_url)
    try:
        sent = []
        for n in range(600):
            sent.append(log.publish(big_event(n)).position)
            if n % 10 == 9:
                time.sleep(0.005)
        received = [fast.next_event(timeout_s=30).id for _ in sent]
        assert received == sent
        stats = streamer.wait_stats(lambda s: s["closes"].get("slow_consumer", 0) >= 1)
        assert stats["closes"].get("slow_consumer") == 1, stats
        assert drained(slow)
    finally:
        fast.close()
        slow.close()


def test_sigterm_drains_and_clients_resume_elsewhere_with_nothing_lost(start_streamers,
                                                                       redis_url):
    streamers = start_streamers(2)
    log = publisher(redis_url)
    readers = [SseReader(f"{streamers.urls[0]}/events",
                         params={"topic": "public/drain/#"}).wait_connected() for _ in range(3)]
    streamers.wait_stats(lambda s: s["connections"] == 3)
    sent: list[str] = []
    stop = threading.Event()

    def keep_publishing():
        for n in range(10_000):
            if stop.is_set():
                return
            sent.append(publish(log, f"public/drain/{n % 4}", n))
            time.sleep(0.02)

    publishing = threading.Thread(target=keep_publishing)
    publishing.start()
    try:
        wait_until(lambda: len(sent) >= 10, what="the streams to be busy")
        streamers.supervisor.signal("streamer0", signal.SIGTERM)
        for reader in readers:
            assert reader.ended.wait(20), "stream not drained"
        exit_code = streamers.supervisor.children["streamer0"].process.wait(timeout=20)
        assert exit_code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
        resumed = []
        for reader in readers:
            got = _ids_until_end(reader)
            resumed.append(SseReader(f"{streamers.urls[1]}/events",
                                     params={"topic": "public/drain/#"},
                                     headers={"Last-Event-ID": got[-1]}).wait_connected())
            reader.got = got
        published = len(sent)
        wait_until(lambda: len(sent) >= published + 10, what="more events while resumed")
        stop.set()
        publishing.join()
        for reader, after in zip(readers, resumed, strict=True):
            tail = [after.next_event(timeout_s=15).id
                    for _ in range(len(sent) - len(reader.got))]
            assert reader.got + tail == sent
            after.close()
    finally:
        stop.set()
        publishing.join()
        for reader in readers:
            reader.close()


def _ids_until_end(reader: SseReader) -> list[str]:
    ids = []
    while not reader.events.empty():
        event = reader.events.get()
        if event.id is not None:
            ids.append(event.id)
    return ids


def test_heartbeats_retry_hint_and_dead_peers_are_noticed(start_streamers):
    streamer = start_streamers(1)
    reader = SseReader(f"{streamer.urls[0]}/events", params={"topic": "public/quiet"})
    reader.wait_connected()
    hello = reader.events.get(timeout=10)
    assert hello.retry == 3000
    heartbeat = reader.events.get(timeout=10)
    assert heartbeat.comments == ["hb"]
    reader.close()
    stats = streamer.wait_stats(lambda s: s["connections"] == 0)
    assert stats["connections"] == 0


def test_cors_allowlist_and_preflight(start_streamers):
    url = start_streamers(1).urls[0] + "/events"
    params = {"topic": "public/news"}
    with httpx.stream("GET", url, params=params, headers={"Origin": CORS_ORIGIN},
                      timeout=10) as allowed:
        assert allowed.headers["access-control-allow-origin"] == CORS_ORIGIN
        assert allowed.headers["access-control-allow-credentials"] == "true"
    with httpx.stream("GET", url, params=params, headers={"Origin": "https://evil.example"},
                      timeout=10) as denied:
        assert "access-control-allow-origin" not in denied.headers
    preflight = httpx.options(url, headers={"Origin": CORS_ORIGIN,
                                            "Access-Control-Request-Method": "GET"}, timeout=10)
    assert preflight.status_code == 204
    assert "last-event-id" in preflight.headers["access-control-allow-headers"]


def test_stats_and_metrics_report_connections_by_topic_and_subject(start_streamers, redis_url):
    streamer = start_streamers(1)
    reader = SseReader(f"{streamer.urls[0]}/events",
                       params={"topic": ["public/a/#", "public/b"]}).wait_connected()
    try:
        publish(publisher(redis_url), "public/a/x", 1)
        reader.next_event(timeout_s=15)
        stats = streamer.wait_stats(lambda s: s["deliveries"] >= 1)
        assert stats["connections"] == 1
        assert stats["by_topic"] == {"public/a/#": 1, "public/b": 1}
        assert stats["events"] >= 1 and "events_per_s" in stats and stats["drops"] == 0
        metrics = httpx.get(f"{streamer.urls[0]}/metrics", timeout=5).text
        assert "hookstream_streamer_connections 1.0" in metrics
        assert "hookstream_streamer_deliveries_total" in metrics
    finally:
        reader.close()

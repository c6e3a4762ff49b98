"""Resume across real disconnects: several topics and wildcards, reset, bad ids."""

import json

import httpx
import pytest

from tests.integration.streamer_support import publish, publisher
from tests.sse_client import SseReader

pytestmark = pytest.mark.integration
TOPICS = ["public/orders/+/paid", "public/chat/#", "public/news"]


def matching_stream(url: str, **kwargs) -> SseReader:
    return SseReader(f"{url}/events", params={"topic": TOPICS, **kwargs.pop("params", {})},
                     **kwargs).wait_connected()


def publish_mix(log, start: int, count: int) -> list[str]:
    """Publish events on matching and unrelated topics; return the matching positions."""
    wanted = []
    for n in range(start, start + count):
        wanted.append(publish(log, f"public/orders/{n}/paid", n))
        publish(log, f"public/orders/{n}/refunded", n)
        wanted.append(publish(log, f"public/chat/room{n % 3}/msg", n))
        publish(log, "public/weather", n)
    wanted.append(publish(log, "public/news", start))
    return wanted


def no_more_events(reader: SseReader, log) -> bool:
    """Nothing else came before a marker published last (the stream is ordered)."""
    marker = publish(log, "public/news", -1, kind="marker")
    extra = reader.next_event(timeout_s=15)
    assert (extra.id, extra.event) == (marker, "marker"), f"unexpected extra event {extra}"
    return True


def read_ids(reader: SseReader, count: int) -> list[str]:
    return [reader.next_event(timeout_s=15).id for _ in range(count)]


@pytest.mark.parametrize("via", ["header", "query"])
def test_resume_after_disconnect_replays_every_missed_event_once_in_order(
        start_streamers, redis_url, via):
    streamer = start_streamers(1)
    log = publisher(redis_url)
    first = matching_stream(streamer.urls[0])
    seen_live = publish_mix(log, 0, 3)
    assert read_ids(first, len(seen_live)) == seen_live
    first.close()
    missed = publish_mix(log, 10, 5)
    position = seen_live[-1]
    resume = ({"headers": {"Last-Event-ID": position}} if via == "header"
              else {"params": {"lastEventId": position}})
    second = matching_stream(streamer.urls[0], **resume)
    try:
        live = publish_mix(log, 20, 2)
        assert read_ids(second, len(missed) + len(live)) == missed + live
        assert no_more_events(second, log)
    finally:
        second.close()


def test_envelope_and_type_reach_the_client(start_streamers, redis_url):
    streamer = start_streamers(1)
    reader = matching_stream(streamer.urls[0])
    try:
        position = publish(publisher(redis_url), "public/news", 7, kind="news.posted")
        event = reader.next_event(timeout_s=15)
        assert (event.id, event.event) == (position, "news.posted")
        assert json.loads(event.data)["data"] == {"n": 7}
    finally:
        reader.close()


def test_a_position_older_than_the_history_starts_with_reset(start_streamers, redis_url):
    streamer = start_streamers(1)
    log = publisher(redis_url, max_len=100)
    oldest = publish(log, "public/news", 0)
    for n in range(1, 400):
        publish(log, "public/news", n)
    reader = matching_stream(streamer.urls[0], headers={"Last-Event-ID": oldest})
    try:
        reset = reader.next_event(timeout_s=15)
        assert reset.event == "reset"
        assert json.loads(reset.data)["reason"] == "history_trimmed"
        live = publish(log, "public/news", 1000)
        assert reader.next_event(timeout_s=15).id == live
    finally:
        reader.close()


def test_a_position_the_log_never_had_starts_with_reset(start_streamers, redis_url):
    streamer = start_streamers(1)
    publish(publisher(redis_url), "public/news", 0)
    reader = matching_stream(streamer.urls[0], headers={"Last-Event-ID": "99999999999999-0"})
    try:
        assert reader.next_event(timeout_s=15).event == "reset"
    finally:
        reader.close()


def test_a_malformed_last_event_id_is_400_and_harms_nothing(start_streamers):
    streamer = start_streamers(1)
    bad_ids = ["abc", "1-2-3", "-1-0", "1", "99999999999999999999999-0", "1-x", "1-0\nid: 2"]
    for bad in bad_ids:
        response = httpx.get(f"{streamer.urls[0]}/events",
                             params={"topic": "public/news", "lastEventId": bad}, timeout=10)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "invalid_last_event_id"
    assert httpx.get(f"{streamer.urls[0]}/healthz", timeout=5).status_code == 200

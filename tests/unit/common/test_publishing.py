import pytest

from common.errors import EventLogUnavailable
from common.events import Event
from common.publishing import EventLog
from common.redis import connect
from common.settings import EventLogSettings


def test_publish_appends_once_per_event_id(redis_client):
    log = EventLog(redis_client, EventLogSettings())
    event = Event(topic="a/b", type="t", data={"n": 1}, source="test", id="evt-1")
    first = log.publish(event)
    again = log.publish(event)
    assert not first.duplicate and again.duplicate
    assert again.position == first.position
    assert redis_client.xlen(log.stream_key) == 1


def test_publish_trims_by_count(redis_client):
    log = EventLog(redis_client, EventLogSettings(max_len=100))
    for n in range(1000):
        log.publish(Event(topic="a", type="t", data=n, source="test"))
    assert redis_client.xlen(log.stream_key) < 300


def test_publish_trims_by_age(redis_client):
    settings = EventLogSettings(max_age_s=1)
    log = EventLog(redis_client, settings)
    redis_client.xadd(settings.stream_key, {"v": "1"}, id="1-1")
    log.publish(Event(topic="a", type="t", data=None, source="test"))
    entries = redis_client.xrange(settings.stream_key)
    assert [entry_id for entry_id, _ in entries if entry_id == b"1-1"] == []


def test_publish_without_redis_raises_event_log_unavailable():
    client = connect("redis://127.0.0.1:1/0", connect_timeout_s=0.2)
    with pytest.raises(EventLogUnavailable):
        EventLog(client, EventLogSettings()).publish(
            Event(topic="a", type="t", data=None, source="test"))


def test_publish_many_appends_in_order_in_one_round_trip_and_drops_repeats(redis_client):
    from common.events import Event
    from common.publishing import EventLog
    from common.settings import EventLogSettings

    log = EventLog(redis_client, EventLogSettings())
    events = [Event(topic="t", type="x", data={"n": n}, source="s", id=f"e{n}") for n in range(3)]
    first = log.publish_many(events)
    again = log.publish_many(events[1:])
    assert [p.duplicate for p in first] == [False, False, False]
    assert [p.position for p in again] == [p.position for p in first[1:]]
    assert all(p.duplicate for p in again)
    assert redis_client.xlen(log.stream_key) == 3

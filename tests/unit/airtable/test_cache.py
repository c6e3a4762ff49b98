"""The read-through cache over real HTTP and Redis: hit, miss, invalidated, TTL, counters."""

from __future__ import annotations

import redis

from domains.airtable import keys
from domains.airtable.cache import ListQuery
from domains.airtable.services import build_reader
from domains.airtable.stats import read_stats
from tests.airtable_support import DEMO_BASE, DEMO_TABLE, admin

NS = "hookstream"


def reader_for(redis_url, make_settings, url, **airtable):
    settings = make_settings(airtable={"api_url": url, "token": "test-token", **airtable})
    return build_reader(redis.Redis.from_url(redis_url), settings)


def sent(url) -> int:
    return admin(url, "GET", f"/bases/{DEMO_BASE}/stats")["requests"]


def test_a_hit_costs_no_airtable_request(redis_url, make_settings, emulator):
    reader = reader_for(redis_url, make_settings, emulator.url)
    first = reader.list_records(DEMO_BASE, DEMO_TABLE, ListQuery())
    before = sent(emulator.url)
    second = reader.list_records(DEMO_BASE, DEMO_TABLE, ListQuery())
    assert (first.hit, second.hit) == (False, True)
    assert first.body == second.body and sent(emulator.url) == before
    assert read_stats(redis.Redis.from_url(redis_url), NS)["cache"] == {"hits": 1, "misses": 1}


def test_queries_are_cached_apart(redis_url, make_settings, emulator):
    reader = reader_for(redis_url, make_settings, emulator.url)
    query = ListQuery(formula="{Owner}='Ada'", fields=["Name"], sort=["-Points"], max_records=5)
    assert not reader.list_records(DEMO_BASE, DEMO_TABLE, ListQuery()).hit
    narrowed = reader.list_records(DEMO_BASE, DEMO_TABLE, query)
    assert not narrowed.hit
    assert b"Wire the webhook" in narrowed.body and b"Grace" not in narrowed.body
    assert reader.list_records(DEMO_BASE, DEMO_TABLE, query).hit


def test_a_change_event_makes_the_next_read_fresh(redis_url, make_settings, emulator):
    reader = reader_for(redis_url, make_settings, emulator.url)
    reader.get_record(DEMO_BASE, DEMO_TABLE, "recTask0000000001")
    admin(emulator.url, "POST", f"/bases/{DEMO_BASE}/changes", json={
        "table": DEMO_TABLE, "ping": False,
        "update": [{"id": "recTask0000000001", "fields": {"Owner": "Edsger"}}]})
    assert reader.get_record(DEMO_BASE, DEMO_TABLE, "recTask0000000001").hit  # not told yet
    # The change sync INCRs the table's generation for the change event:
    redis.Redis.from_url(redis_url).incr(keys.table_generation_key(NS, DEMO_BASE, DEMO_TABLE))
    fresh = reader.get_record(DEMO_BASE, DEMO_TABLE, "recTask0000000001")
    assert not fresh.hit and b"Edsger" in fresh.body


def test_tables_named_are_resolved_once_and_share_the_generation(redis_url, make_settings,
                                                                 emulator):
    reader = reader_for(redis_url, make_settings, emulator.url)
    assert not reader.list_records(DEMO_BASE, "Tasks", ListQuery()).hit
    before = sent(emulator.url)
    assert reader.list_records(DEMO_BASE, "Tasks", ListQuery()).hit
    assert sent(emulator.url) == before  # the name -> id mapping is kept too
    reader.invalidate(DEMO_BASE, DEMO_TABLE)  # what a write job does after each chunk
    assert not reader.list_records(DEMO_BASE, "Tasks", ListQuery()).hit


def test_a_ttl_of_zero_is_never_cached_and_ttls_expire(redis_url, make_settings, emulator):
    live = reader_for(redis_url, make_settings, emulator.url, table_ttl_s={"Tasks": 0})
    assert not live.list_records(DEMO_BASE, DEMO_TABLE, ListQuery()).hit
    assert not live.list_records(DEMO_BASE, DEMO_TABLE, ListQuery()).hit
    short = reader_for(redis_url, make_settings, emulator.url, cache_ttl_s=1)
    short.list_records(DEMO_BASE, "Tasks", ListQuery())
    client = redis.Redis.from_url(redis_url)
    entries = [k for k in client.scan_iter(match=f"{NS}:airtable:cache:*")]  # test-only scan
    assert len(entries) == 1 and 0 < client.ttl(entries[0]) <= 1

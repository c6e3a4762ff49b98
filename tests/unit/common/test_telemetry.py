"""Telemetry reports and their merge, against the session's real Valkey."""

import time

import pytest
import redis
import redis.asyncio

from common.telemetry import FixedFigures, Telemetry, ThreadReporter, figure
from common.telemetry.board import Board, read_reports
from common.telemetry.figures import OTHER, decode_field, encode_field, top
from common.telemetry.keys import report_key, reporters_key
from common.telemetry.reporter import Identity, queue_removal, queue_report

NS = "hookstream"


def write(client, identity, figures, *, at_ms, ttl_ms=3_000):
    pipe = client.pipeline(transaction=True)
    queue_report(pipe, NS, identity, figures, at_ms=at_ms, ttl_ms=ttl_ms)
    pipe.execute()


async def read(redis_url, *, at_ms):
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        return await read_reports(client, NS, at_ms=at_ms)
    finally:
        await client.aclose()


def by_labels(view, name):
    return {tuple(sorted(row["labels"].items())): row for row in view["figures"].get(name, [])}


def test_fields_round_trip_and_foreign_fields_are_ignored():
    key = figure("x_total", 3, {"b": "2", "a": "1/#"}, merge="last").key
    assert decode_field(encode_field(key)) == key
    assert decode_field(b"@role") is None
    assert decode_field(b'["x","median",{}]') is None


def test_top_keeps_the_largest_and_sums_the_rest():
    assert top({"a": 1, "b": 2}, 5) == [("a", 1), ("b", 2)]
    assert top({"a": 1, "b": 5, "c": 3, "d": 1}, 2) == [("b", 5), ("c", 3), (OTHER, 2)]


def test_telemetry_counts_sets_and_reads_its_sources():
    telemetry = Telemetry("worker")
    telemetry.count("m_total", labels={"actor": "a"})
    telemetry.count("m_total", 2, labels={"actor": "a"})
    telemetry.gauge("g", 7)
    telemetry.add(FixedFigures([figure("q", 4, {"queue": "d"}, merge="last")]))

    class Broken:
        def figures(self):
            raise RuntimeError("boom")

    telemetry.add(Broken())
    found = {(f.name, f.labels): f.value for f in telemetry.figures()}
    assert found == {("m_total", (("actor", "a"),)): 3.0, ("g", ()): 7.0,
                     ("q", (("queue", "d"),)): 4.0}


@pytest.mark.anyio
async def test_reports_merge_by_rule_across_processes(redis_url):
    client = redis.Redis.from_url(redis_url)
    now = int(time.time() * 1000)
    one, two = Identity.new("streamer"), Identity.new("streamer")
    write(client, one, [figure("conn", 2), figure("lag_s", 1.5, {"watch": "w"}, merge="max"),
                        figure("depth", 9, {"queue": "d"}, merge="last")], at_ms=now - 500)
    write(client, two, [figure("conn", 3), figure("lag_s", 0.5, {"watch": "w"}, merge="max"),
                        figure("depth", 4, {"queue": "d"}, merge="last")], at_ms=now)
    reports = await read(redis_url, at_ms=now)
    view = Board().update(reports, at_ms=now)
    assert sorted(p["id"] for p in view["processes"]) == sorted([one.reporter_id,
                                                                 two.reporter_id])
    assert view["figures"]["conn"] == [{"labels": {}, "value": 5.0}]
    assert by_labels(view, "lag_s")[(("watch", "w"),)]["value"] == 1.5
    assert by_labels(view, "depth")[(("queue", "d"),)]["value"] == 4.0  # the newest report
    client.close()


@pytest.mark.anyio
async def test_counters_become_rates_per_reporter(redis_url):
    client = redis.Redis.from_url(redis_url)
    board, start = Board(), int(time.time() * 1000)
    one, two = Identity.new("worker"), Identity.new("worker")
    write(client, one, [figure("m_total", 100)], at_ms=start)
    view = board.update(await read(redis_url, at_ms=start), at_ms=start)
    assert view["figures"]["m_total"] == [{"labels": {}, "value": 100.0, "rate": 0.0}]

    write(client, one, [figure("m_total", 110)], at_ms=start + 1000)
    write(client, two, [figure("m_total", 5_000)], at_ms=start + 1000)  # new: no spike
    view = board.update(await read(redis_url, at_ms=start + 1000), at_ms=start + 1000)
    assert view["figures"]["m_total"] == [{"labels": {}, "value": 5110.0, "rate": 10.0}]

    # No new report from one since: its last rate holds; two grew by 20 in 2 s.
    write(client, two, [figure("m_total", 5_020)], at_ms=start + 2000)
    view = board.update(await read(redis_url, at_ms=start + 2000), at_ms=start + 2000)
    assert view["figures"]["m_total"][0]["rate"] == 30.0
    client.close()


@pytest.mark.anyio
async def test_shared_counters_rate_from_the_newest_report(redis_url):
    client = redis.Redis.from_url(redis_url)
    board, start = Board(), int(time.time() * 1000)
    one, two = Identity.new("ingress"), Identity.new("ingress")
    labels = {"source": "demo", "outcome": "received"}
    write(client, one, [figure("w_total", 10, labels, merge="last")], at_ms=start)
    write(client, two, [figure("w_total", 8, labels, merge="last")], at_ms=start - 300)
    board.update(await read(redis_url, at_ms=start), at_ms=start)
    write(client, two, [figure("w_total", 14, labels, merge="last")], at_ms=start + 500)
    view = board.update(await read(redis_url, at_ms=start + 500), at_ms=start + 500)
    row = view["figures"]["w_total"][0]
    assert (row["value"], row["rate"]) == (14.0, 8.0)
    client.close()


@pytest.mark.anyio
async def test_expired_and_removed_reporters_drop_out(redis_url):
    client = redis.Redis.from_url(redis_url)
    now = int(time.time() * 1000)
    gone, alive, stopped = Identity.new("w"), Identity.new("w"), Identity.new("w")
    write(client, gone, [figure("conn", 1)], at_ms=now - 5_000, ttl_ms=3_000)
    write(client, stopped, [figure("conn", 1)], at_ms=now)
    write(client, alive, [figure("conn", 1)], at_ms=now)
    pipe = client.pipeline(transaction=True)
    queue_removal(pipe, NS, stopped)
    pipe.execute()
    reports = await read(redis_url, at_ms=now)
    assert [report.reporter_id for report in reports] == [alive.reporter_id]
    # the index forgets the expired entry on the next write; the hashes carry TTLs
    assert client.zscore(reporters_key(NS), gone.reporter_id) is None
    assert 0 < client.pttl(report_key(NS, alive.reporter_id)) <= 3_000
    assert client.exists(report_key(NS, stopped.reporter_id)) == 0
    client.close()


@pytest.mark.anyio
async def test_a_report_replaces_the_previous_one(redis_url):
    client = redis.Redis.from_url(redis_url)
    now = int(time.time() * 1000)
    one = Identity.new("streamer")
    write(client, one, [figure("by_topic", 1, {"topic": "a/#"})], at_ms=now - 10)
    write(client, one, [figure("by_topic", 2, {"topic": "b/#"})], at_ms=now)
    view = Board().update(await read(redis_url, at_ms=now), at_ms=now)
    assert view["figures"]["by_topic"] == [{"labels": {"topic": "b/#"}, "value": 2.0}]
    client.close()


@pytest.mark.anyio
async def test_thread_reporter_reports_until_stopped(redis_url):
    client = redis.Redis.from_url(redis_url)
    telemetry = Telemetry("scheduler")
    telemetry.gauge("scheduler_leading", 1)
    reporter = ThreadReporter(telemetry, client, NS, interval_s=0.1).start()
    deadline = time.monotonic() + 10
    reports = []
    while not reports and time.monotonic() < deadline:
        reports = await read(redis_url, at_ms=int(time.time() * 1000))
    assert reports and reports[0].role == "scheduler"
    telemetry.count("scheduler_jobs_total", labels={"job": "janitor"})
    while time.monotonic() < deadline:
        reports = await read(redis_url, at_ms=int(time.time() * 1000))
        if any(key[0] == "scheduler_jobs_total" for key in reports[0].figures):
            break
    reporter.stop()
    assert await read(redis_url, at_ms=int(time.time() * 1000)) == []
    client.close()


def test_dashboard_settings_want_a_long_admin_token():
    from common.errors import ConfigError
    from common.settings import load_settings

    settings = load_settings({"HOOKSTREAM_DASHBOARD__ADMIN_TOKEN": "a" * 24,
                              "HOOKSTREAM_DASHBOARD__REPORT_INTERVAL_S": "0.5"})
    assert settings.dashboard.admin_token is not None
    assert "a" * 24 not in repr(settings)
    assert settings.dashboard.report_interval_s == 0.5
    with pytest.raises(ConfigError, match=r"dashboard\.admin_token"):
        load_settings({"HOOKSTREAM_DASHBOARD__ADMIN_TOKEN": "short"})


def test_a_keepalive_reporter_writes_only_changes_and_keeps_alive(redis_client):
    from common.telemetry import Telemetry, ThreadReporter

    telemetry = Telemetry("worker")
    reporter = ThreadReporter(telemetry, redis_client, "hookstream", interval_s=1,
                              keepalive_s=60)
    writes = []
    execute = redis_client.pipeline

    def counting_pipeline(*args, **kwargs):
        writes.append(1)
        return execute(*args, **kwargs)

    redis_client.pipeline = counting_pipeline
    reporter.report()
    reporter.report()  # nothing changed: no call
    telemetry.count("worker_messages_total", labels={"actor": "a", "outcome": "done"})
    reporter.report()
    assert len(writes) == 2

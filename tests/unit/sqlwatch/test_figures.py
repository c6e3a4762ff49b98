"""Each SQL watch's lag, read from its meta hash in a real Redis."""

from __future__ import annotations

import redis

from domains.sqlwatch import keys
from domains.sqlwatch.figures import SqlWatchFigures

NS = "hookstream"


def test_each_watch_that_published_reports_its_last_lag(redis_client: redis.Redis) -> None:
    redis_client.hset(keys.meta_key(NS, "orders"), mapping={"lag_ms": 1250, "position": "1-0"})
    redis_client.hset(keys.meta_key(NS, "quiet"), mapping={"position": "0-0"})
    found = [(f.name, f.labels, f.merge, f.value)
             for f in SqlWatchFigures(redis_client, NS, ["quiet", "orders", "unseen"]).figures()]
    assert found == [("sql_watch_lag_s", (("watch", "orders"),), "max", 1.25)]


def test_no_watches_no_round_trip(redis_client: redis.Redis) -> None:
    assert list(SqlWatchFigures(redis_client, NS, []).figures()) == []

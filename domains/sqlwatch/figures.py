"""What the SQL watches report to the dashboard: each watch's lag, from its meta hash.

A watch's reader stores with every batch it publishes the batch's lag (from
the oldest change's commit in the database to its publication: ``lag_ms``,
`reader`). A watch that never published a batch reports nothing. One
pipelined HMGET per watch, one round trip per report; the worst reading wins
(``max``) when several processes report the same watch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import redis

from common.telemetry import Figure, figure
from common.telemetry import figures as names
from domains.sqlwatch import keys


class SqlWatchFigures:
    """A `Figures` of ``sql_watch_lag_s{watch}`` for the named watches."""

    def __init__(self, client: redis.Redis, namespace: str, watches: Sequence[str]) -> None:
        self._client = client
        self._namespace = namespace
        self._watches = sorted(watches)

    def figures(self) -> Iterator[Figure]:
        if not self._watches:
            return
        pipe = self._client.pipeline(transaction=False)
        for watch in self._watches:
            pipe.hget(keys.meta_key(self._namespace, watch), "lag_ms")
        for watch, lag_ms in zip(self._watches, pipe.execute(), strict=True):
            if lag_ms is not None:
                yield figure(names.SQL_WATCH_LAG, int(lag_ms) / 1000, {"watch": watch},
                             merge="max")

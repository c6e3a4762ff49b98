"""``GET /webhooks/{source}``: a source's counters, shared by every ingress process.

``POST /webhooks/{source}`` is the bare ASGI endpoint of api/endpoint.py.
"""

from __future__ import annotations

from collections.abc import Mapping

import falcon.asgi
import orjson

from api.endpoint import Source
from api.errors import NotFound, ServiceUnavailable
from api.stats import SourceStats


class Webhooks:
    def __init__(self, sources: Mapping[str, Source], stats: SourceStats, *,
                 retry_after_s: int) -> None:
        self._sources = sources
        self._stats = stats
        self._retry_after_s = retry_after_s

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response,
                     source: str) -> None:
        found = self._sources.get(source)
        if found is None:
            raise NotFound(f"unknown source {source!r}")
        try:
            counts = await self._stats.read(source)
        except Exception as exc:
            raise ServiceUnavailable("stats unavailable",
                                     retry_after_s=self._retry_after_s) from exc
        resp.data = orjson.dumps({"source": source, "kind": found.kind, "counts": counts})

"""What an ingress process reports to the dashboard (`common.telemetry`).

The per-source counters live in Redis, shared by every ingress process
(api/stats.py); each process reads them when it reports and marks them
``last`` (the newest read wins), so the dashboard shows the tier's totals
whichever processes are alive; the Airtable domain's counters and budget use
(`domains.airtable.figures`) are read the same way, in a thread.
`ReportingLifespan` runs the reporter on the server's event loop, from
Falcon's lifespan hooks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from api.stats import SourceStats
from common.telemetry import AsyncReporter, Figure, Figures, figure
from common.telemetry import figures as names
from common.telemetry.reporter import AsyncFigures

REJECTED = "rejected:"


class IngressFigures:
    def __init__(self, sources: Sequence[str], stats: SourceStats) -> None:
        self._sources = list(sources)
        self._stats = stats

    async def __call__(self) -> list[Figure]:
        counts = await asyncio.gather(*(self._stats.read(name) for name in self._sources))
        found = []
        for source, fields in zip(self._sources, counts, strict=True):
            for field, value in fields.items():
                found.append(_figure(source, field, value))
        return found


def _figure(source: str, field: str, value: int) -> Figure:
    if field.startswith(REJECTED):
        return figure(names.INGRESS_REJECTIONS, value,
                      {"source": source, "reason": field.removeprefix(REJECTED)}, merge="last")
    return figure(names.INGRESS_WEBHOOKS, value, {"source": source, "outcome": field},
                  merge="last")


def off_loop(source: Figures) -> AsyncFigures:
    """An async source reading a blocking *source* (a domain's, on a sync client) in a thread."""
    async def read() -> list[Figure]:
        return await asyncio.to_thread(lambda: list(source.figures()))
    return read


class ReportingLifespan:
    """Falcon middleware: start the reporter at startup, stop (and unlist) it at shutdown."""

    def __init__(self, reporter: AsyncReporter) -> None:
        self._reporter = reporter

    async def process_startup(self, scope: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        self._reporter.start()

    async def process_shutdown(self, scope: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        await self._reporter.stop()

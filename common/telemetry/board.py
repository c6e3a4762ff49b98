"""The dashboard's side: read every live report and merge them into one view.

`read_reports` takes the ids the index scores in the future (live reporters)
and reads their hashes in one pipeline; `Board.update` merges the figures by
their merge rule and turns counters (``*_total``) into rates per second. Rates
are worked out per reporter from the reports' own times (``@at_ms``), so a
process that starts, restarts or dies never shows up as a spike or a dip.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis.asyncio

from common.redis import text
from common.telemetry import keys
from common.telemetry.figures import Labels, Merge, decode_field

FigureKey = tuple[str, Merge, Labels]
COUNTER_SUFFIX = "_total"


@dataclass(frozen=True, slots=True)
class Report:
    reporter_id: str
    role: str
    pid: int
    host: str
    started_ms: int
    at_ms: int
    figures: dict[FigureKey, float]


def parse_report(reporter_id: str, raw: dict[bytes, bytes]) -> Report | None:
    """A report from its hash, or None when it expired or is not one of ours."""
    meta = {text(name): text(value) for name, value in raw.items() if name.startswith(b"@")}
    try:
        at_ms, started_ms, pid = int(meta["@at_ms"]), int(meta["@started_ms"]), int(meta["@pid"])
    except (KeyError, ValueError):
        return None
    figures: dict[FigureKey, float] = {}
    for name, value in raw.items():
        key = None if name.startswith(b"@") else decode_field(name)
        if key is not None:
            figures[key] = float(value)
    return Report(reporter_id, meta.get("@role", "?"), pid, meta.get("@host", "?"),
                  started_ms, at_ms, figures)


async def read_reports(client: redis.asyncio.Redis, namespace: str, *,
                       at_ms: int) -> list[Report]:
    members: Any = await client.zrangebyscore(keys.reporters_key(namespace), at_ms, "+inf")
    ids = [text(member) for member in members]
    pipe = client.pipeline(transaction=False)
    for reporter_id in ids:
        pipe.hgetall(keys.report_key(namespace, reporter_id))
    raws = await pipe.execute() if ids else []
    reports = (parse_report(reporter_id, raw) for reporter_id, raw in zip(ids, raws, strict=True))
    return sorted((report for report in reports if report is not None),
                  key=lambda report: (report.role, report.reporter_id))


@dataclass(frozen=True, slots=True)
class _Track:
    value: float
    at_ms: int
    rate: float


class Board:
    """Merges reports; remembers each counter's last value to turn it into a rate."""

    def __init__(self) -> None:
        self._tracks: dict[tuple[str, FigureKey], _Track] = {}

    def update(self, reports: Iterable[Report], *, at_ms: int) -> dict[str, Any]:
        reports = list(reports)
        values, times = _merge(reports)
        tracks: dict[tuple[str, FigureKey], _Track] = {}
        rates: dict[FigureKey, float] = {}
        for report in reports:
            for key, value in report.figures.items():
                if key[1] == "sum" and key[0].endswith(COUNTER_SUFFIX):
                    track = self._follow((report.reporter_id, key), value, report.at_ms, tracks)
                    rates[key] = rates.get(key, 0.0) + track.rate
        for key, value in values.items():
            if key[1] != "sum" and key[0].endswith(COUNTER_SUFFIX):
                rates[key] = self._follow(("", key), value, times[key], tracks).rate
        self._tracks = tracks
        return {"at_ms": at_ms, "processes": [_process(report, at_ms) for report in reports],
                "figures": _view(values, rates)}

    def _follow(self, name: tuple[str, FigureKey], value: float, at_ms: int,
                tracks: dict[tuple[str, FigureKey], _Track]) -> _Track:
        previous = self._tracks.get(name)
        if previous is None:
            track = _Track(value, at_ms, 0.0)
        elif at_ms <= previous.at_ms:
            track = previous
        else:
            grown = value - previous.value if value >= previous.value else value
            track = _Track(value, at_ms, grown * 1000 / (at_ms - previous.at_ms))
        tracks[name] = track
        return track


def _merge(reports: list[Report]) -> tuple[dict[FigureKey, float], dict[FigureKey, int]]:
    """Each figure merged across *reports*, and the time of the newest report holding it."""
    values: dict[FigureKey, float] = {}
    times: dict[FigureKey, int] = {}
    for report in reports:
        for key, value in report.figures.items():
            merge, known, newest = key[1], key in values, times.get(key, -1)
            if merge == "sum":
                values[key] = values.get(key, 0.0) + value
            elif merge == "max":
                values[key] = max(values[key], value) if known else value
            elif report.at_ms >= newest:
                values[key] = value
            times[key] = max(newest, report.at_ms)
    return values, times


def _view(values: dict[FigureKey, float],
          rates: dict[FigureKey, float]) -> dict[str, list[dict[str, Any]]]:
    view: dict[str, list[dict[str, Any]]] = {}
    for key in sorted(values):
        name, _, labels = key
        row: dict[str, Any] = {"labels": dict(labels), "value": values[key]}
        if key in rates:
            row["rate"] = round(rates[key], 3)
        view.setdefault(name, []).append(row)
    return view


def _process(report: Report, at_ms: int) -> dict[str, Any]:
    return {"id": report.reporter_id, "role": report.role, "pid": report.pid,
            "host": report.host, "uptime_s": round((at_ms - report.started_ms) / 1000, 1),
            "report_age_s": round((at_ms - report.at_ms) / 1000, 1)}

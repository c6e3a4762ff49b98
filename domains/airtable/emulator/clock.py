"""The emulator's wall clock, which the admin API can move forward (webhook expiry tests)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    def __init__(self) -> None:
        self.offset_s = 0.0

    def now_s(self) -> float:
        return time.time() + self.offset_s

    def advance(self, seconds: float) -> None:
        self.offset_s += seconds


def iso(epoch_s: float) -> str:
    """Airtable's timestamp format: ``2026-11-28T22:00:00.000Z``."""
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

"""Resume positions: Redis Stream entry ids (``<ms>-<seq>``), parsed strictly.

A position comes from the client (``Last-Event-ID``), so it is untrusted: anything
but two unsigned 64-bit integers joined by ``-`` is a `Rejection` (400).
"""

from __future__ import annotations

import re

from streamer.errors import Rejection

POSITION = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")
MAX_PART = 2**64 - 1
Position = tuple[int, int]
ORIGIN: Position = (0, 0)


def parse_position(text: str) -> Position:
    """``"1700000000000-3"`` -> ``(1700000000000, 3)``; 400 for anything else."""
    if not POSITION.match(text):
        raise Rejection(400, "invalid_last_event_id",
                        "Last-Event-ID must be an event id from this stream, like 1700000000000-0")
    ms, seq = (int(part) for part in text.split("-"))
    if ms > MAX_PART or seq > MAX_PART:
        raise Rejection(400, "invalid_last_event_id", "Last-Event-ID is out of range")
    return ms, seq


def to_position(raw: bytes | str) -> Position:
    """A position Redis gave us (trusted)."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def format_position(position: Position) -> str:
    return f"{position[0]}-{position[1]}"

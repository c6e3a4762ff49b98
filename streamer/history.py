"""Replaying the event log for a resuming client.

The log is one Redis Stream for every topic, so a position orders all events.
A resuming stream is attached to the hub first (live events buffer in its
subscriber from the hub's position *until* on) and then replays the range
``(after, until]`` here, filtered by its patterns: no gap, no duplicate.

Each batch reads ``XINFO STREAM`` and ``XRANGE`` in one transaction, so the
check that nothing after the cursor was trimmed holds for the entries read.
A trim never records what it removed (``max-deleted-entry-id`` only follows
``XDEL``), so a cursor before the oldest retained entry counts as lost once
anything was removed: at worst one needless reset at the exact boundary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import redis
import redis.asyncio

from common.topics import matches
from streamer.frames import event_frame, reset_frame
from streamer.positions import ORIGIN, Position, format_position, to_position

TRIMMED = "history_trimmed"
UNKNOWN = "unknown_position"


class History:
    def __init__(self, client: redis.asyncio.Redis, stream_key: str, *, batch: int) -> None:
        self._client = client
        self._stream_key = stream_key
        self._batch = batch

    async def knows(self, position: Position) -> bool:
        """False when *position* is past anything this log ever generated."""
        info = await self._info()
        return info is not None and position <= to_position(info["last-generated-id"])

    async def replay(self, after: Position, until: Position,
                     patterns: tuple[str, ...]) -> AsyncIterator[bytes]:
        """Yield chunks of frames for ``(after, until]``; a reset frame ends it if lost."""
        cursor = after
        while cursor < until:
            info, entries = await self._read(cursor, until)
            if _lost(info, cursor):
                yield reset_frame(format_position(until), TRIMMED)
                return
            if not entries:
                return
            cursor = to_position(entries[-1][0])
            chunk = b"".join(_frames(entries, patterns))
            if chunk:
                yield chunk

    async def _read(self, cursor: Position, until: Position) -> tuple[Any, list[Any]]:
        pipe = self._client.pipeline(transaction=True)
        pipe.xinfo_stream(self._stream_key)
        pipe.xrange(self._stream_key, min="(" + format_position(cursor),
                    max=format_position(until), count=self._batch)
        info, entries = await pipe.execute(raise_on_error=False)
        if isinstance(info, redis.ResponseError):
            return None, []
        if isinstance(entries, Exception):
            raise entries
        return info, entries

    async def _info(self) -> Any:
        try:
            return await self._client.xinfo_stream(self._stream_key)
        except redis.ResponseError:
            return None


def _lost(info: Any, cursor: Position) -> bool:
    if info is None:
        return cursor > ORIGIN
    removed = int(info["entries-added"]) > int(info["length"])
    if to_position(info["max-deleted-entry-id"]) > cursor:
        return True
    first = info.get("first-entry")
    oldest = to_position(first[0]) if first else to_position(info["last-generated-id"])
    return removed and cursor < oldest


def _frames(entries: list[Any], patterns: tuple[str, ...]) -> list[bytes]:
    frames = []
    for position, fields in entries:
        topic = fields[b"topic"].decode()
        if any(matches(pattern, topic) for pattern in patterns):
            frames.append(event_frame(position.decode(), fields[b"type"].decode(), fields[b"e"]))
    return frames

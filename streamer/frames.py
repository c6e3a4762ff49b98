"""SSE frame encoding (sse-starlette's `ServerSentEvent`), done once per event per process.

`ServerSentEvent` strips CR/LF from ``id`` and ``event``, so neither can inject
lines; ``data`` is split into one ``data:`` line per line.
"""

from __future__ import annotations

import orjson
from sse_starlette import ServerSentEvent

HEARTBEAT = b": hb\n\n"


def event_frame(position: str, event_type: str, envelope: bytes) -> bytes:
    """``id:``/``event:``/``data:`` lines for one event-log entry."""
    return ServerSentEvent(envelope.decode(), id=position, event=event_type, sep="\n").encode()


def retry_frame(retry_ms: int, *, heartbeat_s: float) -> bytes:
    """The opening frame: the ``retry:`` hint and a comment naming the heartbeat interval.

    ``client.js`` reads ``heartbeat_ms=`` to call a stream dead after 2.5 silent intervals.
    """
    comment = f"connected heartbeat_ms={round(heartbeat_s * 1000)}"
    return ServerSentEvent(retry=retry_ms, comment=comment, sep="\n").encode()


def reset_frame(position: str, reason: str) -> bytes:
    """``event: reset``: events after the client's position are gone; refetch state.

    Its ``id`` is where the stream continues from, so a client that reconnects
    after it resumes from here.
    """
    data = orjson.dumps({"reason": reason, "position": position}).decode()
    return ServerSentEvent(data, id=position, event="reset", sep="\n").encode()


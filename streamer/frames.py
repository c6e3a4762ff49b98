"""SSE frame encoding (sse-starlette's `ServerSentEvent`), done once per event per process."""

from __future__ import annotations

from sse_starlette import ServerSentEvent

HEARTBEAT = b": hb\n\n"


def event_frame(position: str, event_type: str, envelope: bytes) -> bytes:
    """``id:``/``event:``/``data:`` lines; sse-starlette strips newlines from id and event."""
    return ServerSentEvent(envelope.decode(), id=position, event=event_type, sep="\n").encode()


def retry_frame(retry_ms: int) -> bytes:
    return ServerSentEvent(retry=retry_ms, comment="connected", sep="\n").encode()


def control_frame(event_type: str, data: str) -> bytes:
    return ServerSentEvent(data, event=event_type, sep="\n").encode()

"""One SSE connection's state: a bounded buffer of encoded frames and a wake-up.

The hub pushes already-encoded frames (the same bytes object for every
subscriber); the connection's coroutine drains them in one write. A subscriber
that falls more than `max_events` or `max_bytes` behind is closed and its
connection aborted (it resumes from its last id, so it loses nothing); it
never slows the others. Kept small: tens of thousands live in one process.
"""

from __future__ import annotations

import asyncio

from streamer.peers import Peer


class Subscriber:
    __slots__ = (
        "_waiter",
        "close_reason",
        "closed",
        "direct",
        "frames",
        "max_bytes",
        "max_events",
        "patterns",
        "peer",
        "queued_bytes",
        "subject",
    )

    def __init__(self, patterns: tuple[str, ...], *, max_events: int, max_bytes: int,
                 subject: str | None = None, peer: Peer | None = None) -> None:
        self.patterns = patterns
        self.subject = subject
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.peer = peer
        self.frames: list[bytes] = []
        self.queued_bytes = 0
        self.closed = False
        self.direct = False
        self.close_reason: str | None = None
        self._waiter: asyncio.Future[None] | None = None

    def push(self, frame: bytes) -> bool:
        """Queue *frame*; False (and the subscriber cut off) when it overflows.

        A stream whose coroutine idles (``direct``) is not woken: the hub calls
        `flush` once per dispatched batch, which writes straight to the peer.
        """
        if self.closed:
            return False
        self.frames.append(frame)
        self.queued_bytes += len(frame)
        if len(self.frames) > self.max_events or self.queued_bytes > self.max_bytes:
            self.cut_off()
            return False
        if not self.direct:
            self._wake()
        return True

    def send_now(self, frame: bytes, chunk: bytes) -> bool:
        """Write *frame* at once if the stream idles with nothing queued (*chunk*: chunked)."""
        peer = self.peer
        if self.direct and not self.frames and peer is not None and peer.writable():
            peer.write_encoded(frame, chunk)
            return True
        return False

    def flush(self) -> None:
        """Write what is queued in one write if the peer takes it now, else wake the stream."""
        if not self.frames or self.closed:
            return
        if self.direct and self.peer is not None and self.peer.writable():
            self.peer.write(self.take())
        else:
            self._wake()

    def cut_off(self) -> None:
        """Too slow: drop the backlog and abort the connection, even mid-write."""
        self.take()
        self.close("slow_consumer")
        if self.peer is not None:
            self.peer.abort()

    def close(self, reason: str) -> None:
        if not self.closed:
            self.closed = True
            self.close_reason = reason
            self._wake()

    def take(self) -> bytes:
        chunk = b"".join(self.frames)
        self.frames = []
        self.queued_bytes = 0
        return chunk

    async def wait(self) -> None:
        """Return once there is something to send or the subscriber is closed."""
        if self.frames or self.closed:
            return
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        peer = self.peer
        if peer is not None:
            peer.watch(waiter)
            self.direct = True
        try:
            await waiter
        finally:
            self.direct = False
            self._waiter = None
            if peer is not None:
                peer.unwatch(waiter)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

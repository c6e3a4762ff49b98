"""The client end of a stream: has it gone, and how to cut it off.

Under uvicorn the ASGI ``receive`` is a bound method of the request cycle, which
knows at once when the peer disconnects (``disconnected``), sets its
``message_event`` then, and holds the transport. We read that flag, and while a
stream sleeps we put its wake-up future among that event's waiters, so a
disconnect wakes it at once. That costs nothing per connection, where the
portable way (a task per connection awaiting ``http.disconnect``) costs a task
each. It leans on asyncio.Event keeping its waiters in ``_waiters`` (CPython
3.11+); without it a departed peer is still noticed by the hub's heartbeat sweep.
Other servers get the portable way.

While a stream idles, the hub writes its frames straight to that transport
(`CyclePeer.write`), all the frames of one dispatched batch in one write: a
delivery costs about what it costs a raw asyncio server, and bursts coalesce.
The stream's coroutine only runs for what needs it: the replay, a paused
(slow) transport, and closing.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

Receive = Callable[[], Awaitable[dict[str, Any]]]


class Peer(Protocol):
    def gone(self) -> bool: ...

    def writable(self) -> bool: ...

    def write(self, body: bytes) -> None: ...

    def write_encoded(self, body: bytes, chunk: bytes) -> None: ...

    def watch(self, waiter: asyncio.Future[None]) -> None: ...

    def unwatch(self, waiter: asyncio.Future[None]) -> None: ...

    def abort(self) -> None: ...

    def release(self) -> None: ...


class CyclePeer:
    """uvicorn's request cycle: read its flag, abort its transport."""

    __slots__ = ("_cycle", "_direct")

    def __init__(self, cycle: Any) -> None:
        self._cycle = cycle
        self._direct = hasattr(cycle, "chunked_encoding")  # httptools; h11 frames by itself

    def gone(self) -> bool:
        return bool(self._cycle.disconnected)

    def writable(self) -> bool:
        cycle = self._cycle
        return self._direct and not (cycle.disconnected or cycle.flow.write_paused)

    def write(self, body: bytes) -> None:
        """Write frames straight to the transport, as uvicorn's ``send`` would.

        Only called while the stream's coroutine idles with nothing else queued,
        after the response started and when `writable`, so frames keep their
        order and flow control holds; chunked framing on HTTP/1.1.
        """
        cycle = self._cycle
        cycle.transport.write(encode_chunk(body) if cycle.chunked_encoding else body)

    def write_encoded(self, body: bytes, chunk: bytes) -> None:
        """`write` with *chunk* = ``encode_chunk(body)`` done once for every stream."""
        cycle = self._cycle
        cycle.transport.write(chunk if cycle.chunked_encoding else body)

    def watch(self, waiter: asyncio.Future[None]) -> None:
        event = self._cycle.message_event
        waiters = getattr(event, "_waiters", None)
        if isinstance(waiters, deque):
            if event.is_set() and not self._cycle.disconnected:
                event.clear()  # set by the end of the request body; we never call receive()
            waiters.append(waiter)

    def unwatch(self, waiter: asyncio.Future[None]) -> None:
        waiters = getattr(self._cycle.message_event, "_waiters", None)
        if isinstance(waiters, deque) and waiter in waiters:
            waiters.remove(waiter)

    def abort(self) -> None:
        self._cycle.transport.abort()

    def release(self) -> None:
        return None


class WatchedPeer:
    """Any ASGI server: one task waits for ``http.disconnect``; abort cancels the stream."""

    __slots__ = ("_gone", "_stream", "_watcher")

    def __init__(self, receive: Receive, on_gone: Callable[[], None]) -> None:
        self._gone = False
        self._stream = asyncio.current_task()
        self._watcher = asyncio.ensure_future(_wait_for_disconnect(receive))
        self._watcher.add_done_callback(lambda _: self._mark_gone(on_gone))

    def gone(self) -> bool:
        return self._gone

    def writable(self) -> bool:
        return False

    def write(self, body: bytes) -> None:
        raise NotImplementedError("a watched peer is written through ASGI send")

    def write_encoded(self, body: bytes, chunk: bytes) -> None:
        raise NotImplementedError("a watched peer is written through ASGI send")

    def watch(self, waiter: asyncio.Future[None]) -> None:
        return None

    def unwatch(self, waiter: asyncio.Future[None]) -> None:
        return None

    def abort(self) -> None:
        self._gone = True
        if self._stream is not None:
            self._stream.cancel()

    def release(self) -> None:
        self._watcher.cancel()

    def _mark_gone(self, on_gone: Callable[[], None]) -> None:
        self._gone = True
        on_gone()


def encode_chunk(body: bytes) -> bytes:
    """*body* as one HTTP/1.1 chunk (what uvicorn writes for a body message)."""
    return b"%x\r\n%b\r\n" % (len(body), body)


def peer_of(receive: Receive, on_gone: Callable[[], None]) -> Peer:
    cycle = getattr(receive, "__self__", None)
    if hasattr(cycle, "disconnected") and hasattr(cycle, "transport"):
        return CyclePeer(cycle)
    return WatchedPeer(receive, on_gone)


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass

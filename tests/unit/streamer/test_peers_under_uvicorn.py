"""The fast path in streamer/peers.py reads uvicorn internals: prove it still applies.

If a uvicorn upgrade renames what `CyclePeer` relies on, this fails instead of the
streamer silently falling back to the slower portable path.
"""

import asyncio
import threading
import time

import httpx
import pytest
import uvicorn

from hookstream.embedded import free_port
from streamer.peers import CyclePeer, peer_of


@pytest.mark.parametrize(("http", "direct"), [("httptools", True), ("h11", False)])
def test_uvicorn_request_cycle_gives_the_direct_write_peer(http, direct):
    """h11 too reads the cycle's disconnect flag, but its frames go through ASGI send."""
    seen: dict[str, object] = {}

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        peer = peer_of(receive, lambda: None)
        seen["peer"] = type(peer).__name__
        seen["gone"] = peer.gone()
        seen["writable"] = peer.writable()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, http=http, loop="asyncio",
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "ok"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert seen == {"peer": CyclePeer.__name__, "gone": False, "writable": direct}


def test_asyncio_event_keeps_its_waiters_where_cycle_peer_looks():
    async def check():
        event = asyncio.Event()
        waiter = asyncio.ensure_future(event.wait())
        await asyncio.sleep(0)
        assert len(event._waiters) == 1
        waiter.cancel()

    asyncio.run(check())

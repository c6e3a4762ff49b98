"""Servers other than uvicorn get the portable peer: prove hypercorn does, and that it
notices a departed client through ``http.disconnect``.

tests/integration/test_streamer_portable.py runs the whole streamer this way.
"""

import asyncio
import socket
import threading
import time

import httpx
from hypercorn.asyncio import serve
from hypercorn.config import Config

from hookstream.embedded import free_port
from streamer.peers import WatchedPeer, peer_of


def test_hypercorn_gives_the_watched_peer_which_sees_the_client_leave():
    seen: dict[str, object] = {}
    left = threading.Event()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        gone = asyncio.Event()
        peer = peer_of(receive, gone.set)
        seen["peer"] = type(peer).__name__
        seen["writable"] = peer.writable()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"hello", "more_body": True})
        await asyncio.wait_for(gone.wait(), timeout=10)
        seen["gone"] = peer.gone()
        peer.release()
        left.set()

    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    stop = threading.Event()

    async def run():
        await serve(app, config, shutdown_trigger=lambda: asyncio.to_thread(stop.wait))

    thread = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)
    thread.start()
    try:
        _wait_listening(port)
        with httpx.stream("GET", f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert next(response.iter_raw()) == b"hello"
        assert left.wait(10), "the watched peer never saw the client leave"
    finally:
        stop.set()
        thread.join(timeout=10)
    assert seen == {"peer": WatchedPeer.__name__, "writable": False, "gone": True}


def _wait_listening(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, "hypercorn did not start"
            time.sleep(0.05)

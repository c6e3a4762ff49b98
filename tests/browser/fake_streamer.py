"""A scripted stand-in for the streamer, speaking real HTTP: 503s, 204s, silence.

Serves ``/`` (a blank page) and ``/client.js`` (the real file) so the page and
its stream share an origin; ``/events`` answers each request with the next
scripted `Reply` (the last one repeats) and records when it came.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files

CLIENT_JS = (files("streamer") / "static" / "client.js").read_bytes()


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    frames: tuple[bytes, ...] = ()
    hold: bool = True  # keep a 200 stream open (silent) until the server stops


@dataclass
class Request:
    at_s: float
    headers: dict[str, str]
    path: str = "/events"


class FakeStreamer:
    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies
        self.requests: list[Request] = []
        self.posts: list[Request] = []  # any POST: answered 200 {}
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        bound = type("BoundHandler", (Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), bound)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def next_reply(self, headers: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append(Request(time.time(), headers))
            index = min(len(self.requests), len(self.replies)) - 1
            return self.replies[index]

    @contextmanager
    def running(self) -> Iterator[FakeStreamer]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.stopping.set()
            self._server.shutdown()
            self._server.server_close()


class Handler(BaseHTTPRequestHandler):
    fake: FakeStreamer  # set on the subclass each FakeStreamer makes

    def do_GET(self) -> None:
        if self.path.startswith("/events"):
            self._events(self.fake.next_reply({k.lower(): v for k, v in self.headers.items()}))
        elif self.path == "/client.js":
            self._body(CLIENT_JS, "text/javascript")
        else:
            self._body(b"<!doctype html><title>fake</title>", "text/html")

    def do_POST(self) -> None:
        self.fake.posts.append(Request(time.time(), dict(self.headers.items()), self.path))
        self._body(b"{}", "application/json")

    def _body(self, body: bytes, media_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _events(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.status != 200:
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for frame in reply.frames:
            self.wfile.write(frame)
            self.wfile.flush()
        if reply.hold:
            self.fake.stopping.wait(60)

    def log_message(self, format: str, *args: object) -> None:
        pass

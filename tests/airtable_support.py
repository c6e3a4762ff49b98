"""Test helpers for the Airtable domain: an emulator on a real port and a ping receiver."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from domains.airtable.emulator.server import EmulatorThread, build

DEMO_BASE = "appHookstreamDemo"
DEMO_TABLE = "tblTasks000000001"


def start_emulator(*, rate_per_s: int = 1000, penalty_s: float = 30.0,
                   seed: str | None = "demo", tokens=frozenset(),
                   token_rate_per_s: int = 10_000) -> EmulatorThread:
    """The emulator in a thread; both limits lifted unless a test sets them."""
    return EmulatorThread(build(seed=seed, rate_per_s=rate_per_s, penalty_s=penalty_s,
                                tokens=tokens, token_rate_per_s=token_rate_per_s)).start()


def admin(url: str, method: str, path: str, json=None) -> dict:
    response = httpx.request(method, f"{url}/_admin{path}", json=json, timeout=10)
    response.raise_for_status()
    return response.json()


@dataclass
class Ping:
    body: bytes
    headers: dict[str, str]


@dataclass
class PingReceiver:
    """A real HTTP server that records every POST it receives (a webhook notificationUrl)."""

    pings: queue.Queue[Ping] = field(default_factory=queue.Queue)
    status: int = 200

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                receiver.pings.put(Ping(body, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def next(self, timeout_s: float = 10.0) -> Ping:
        return self.pings.get(timeout=timeout_s)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

"""The demo page's "send one" button: a tiny local HTTP endpoint of `hookstream dev`.

A page cannot sign a webhook (the secret stays in the dev process), so the demo
source listens on ``127.0.0.1:<ingress port + 2>`` (8002 by default; the page
assumes the streamer's port + 1, or takes ``?sender=URL``) and, on
``POST /send``, sends one signed ``demo.tick`` webhook through the ingress like
its periodic ones. Development only: bound to the loopback interface, it can
send nothing but demo ticks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

Send = Callable[[], int]  # sends one demo webhook, returns the ingress' status code


class _Handler(BaseHTTPRequestHandler):
    send_one: Send

    def do_OPTIONS(self) -> None:
        self._reply(204, b"")

    def do_POST(self) -> None:
        if self.path != "/send":
            self._reply(404, orjson.dumps({"error": {"code": "not_found"}}))
            return
        try:
            status = type(self).send_one()
        except Exception as exc:  # the ingress is down: say so to the page
            self._reply(502, orjson.dumps({"error": {"code": "unavailable",
                                                     "message": type(exc).__name__}}))
            return
        self._reply(200, orjson.dumps({"ingress_status": status}))

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_trigger(send_one: Send, *, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Serve ``POST /send`` from a daemon thread; raises OSError if the port is taken."""
    handler = type("DemoTriggerHandler", (_Handler,), {"send_one": staticmethod(send_one)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name="demo-trigger").start()
    return server

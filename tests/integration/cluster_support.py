"""A cluster whose workers the test starts, kills and replaces: ingress, streamer and
scheduler run for the whole test; the worker runs under its own `Supervisor`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

import httpx
import redis

from hookstream import processes
from hookstream.embedded import free_port
from hookstream.supervisor import Supervisor, wait_http_ok

ROOT = Path(__file__).resolve().parents[2]
FAST_RECOVERY = {
    "HOOKSTREAM_WORKERS__HEARTBEAT_TIMEOUT_S": "3",
    "HOOKSTREAM_WORKERS__HEARTBEAT_INTERVAL_S": "0.5",
    "HOOKSTREAM_WORKERS__SCHEDULE__JANITOR": "0.5",
}
PUBLISH_KEY = "integration-key"


def process_env(config: Path, redis_url: str, **extra: str) -> dict[str, str]:
    """This process's environment without any ``HOOKSTREAM_`` setting, then *config*'s."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKSTREAM_")}
    env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=redis_url, **extra)
    return env


class Cluster:
    """Ingress, streamer and scheduler on *config* (with `FAST_RECOVERY`); workers on demand."""

    def __init__(self, tmp_path: Path, redis_url: str, config: str,
                 worker_modules: tuple[str, ...]) -> None:
        config_path = tmp_path / "hookstream.toml"
        config_path.write_text(config)
        self.tmp_path = tmp_path
        self.worker_modules = worker_modules
        self.redis = redis.Redis.from_url(redis_url)
        self.env = process_env(config_path, redis_url, **FAST_RECOVERY)
        ports = processes.Ports(ingress=free_port(), streamer=free_port())
        self.ingress_url = f"http://127.0.0.1:{ports.ingress}"
        self.streamer_url = f"http://127.0.0.1:{ports.streamer}"
        self.supervisor = Supervisor(self.env, cwd=str(ROOT), log_dir=str(tmp_path),
                                     restart=False)
        self.supervisor.start("ingress", processes.ingress(ports.ingress))
        self.supervisor.start("streamer", processes.streamer(ports.streamer))
        self.supervisor.start("scheduler", processes.scheduler())
        self.workers: Supervisor | None = None

    def start_workers(self, *modules: str, **env: str) -> None:
        """One worker process (2 threads) with `worker_modules` and *modules* loaded."""
        self.workers = Supervisor({**self.env, **env}, cwd=str(ROOT),
                                  log_dir=str(self.tmp_path), restart=False)
        self.workers.start("worker", processes.worker(
            processes=1, threads=2, modules=(*self.worker_modules, *modules)))

    def stop_workers(self) -> None:
        if self.workers is not None:
            self.workers.stop(timeout_s=30)
            self.workers = None

    def wait_ready(self) -> None:
        wait_http_ok(f"{self.ingress_url}/readyz")
        wait_http_ok(f"{self.streamer_url}/readyz")

    def __enter__(self) -> Self:
        """Ready to use (or stopped again if it never got ready)."""
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def publish_marker(self, topic: str, marker: str) -> None:
        """A `test.marker` event with id *marker*: a positive witness that what came
        before it on *topic* has been streamed."""
        response = httpx.post(f"{self.ingress_url}/publish",
                              json={"topic": topic, "type": "test.marker", "data": {},
                                    "id": marker},
                              headers={"Authorization": f"Bearer {PUBLISH_KEY}"})
        assert response.status_code == 202, response.text

    def stop(self) -> None:
        self.stop_workers()
        self.supervisor.stop()
        self.redis.close()
        for log in sorted(self.tmp_path.glob("*.log")):
            print(f"----- {log.name} (tail) -----\n{log.read_text(errors='replace')[-3000:]}")

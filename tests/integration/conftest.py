"""Real processes: gunicorn (ingress), dramatiq (worker), uvicorn (streamer)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from hookstream import processes
from hookstream.embedded import free_port
from hookstream.supervisor import Supervisor, wait_http_ok
from tests.integration.cluster_support import process_env
from tests.integration.dashboard_support import dashboard_system  # noqa: F401  (fixture)
from tests.integration.streamer_support import start_streamers  # noqa: F401  (fixture)

STREAM_KEY = "hookstream:{events}:log"
QUEUED_MESSAGES = "hookstream:deliveries.msgs"  # the deliveries queue's unacknowledged jobs


@dataclass
class System:
    ingress_url: str
    streamer_url: str
    redis_url: str
    supervisor: Supervisor
    env: dict[str, str]


def config_text(secret: str) -> str:
    return f"""
log_format = "json"
[streamer]
public_topics = ["webhooks/#", "public/#"]
heartbeat_s = 1
[ingress]
publish_keys = ["integration-key"]
max_body_bytes = 65536
[sources.demo]
kind = "standard-webhooks"
secrets = ["{secret}"]
"""


@pytest.fixture
def system(tmp_path: Path, redis_url: str, demo_secret: str):
    with run_system(tmp_path, redis_url, config_text(demo_secret)) as running:
        yield running


@contextmanager
def run_system(tmp_path: Path, redis_url: str, config: str) -> Iterator[System]:
    """Every process type on *redis_url*, ready; their logs printed if the test fails."""
    config_path = tmp_path / "hookstream.toml"
    config_path.write_text(config)
    env = process_env(config_path, redis_url)
    ports = processes.Ports(ingress=free_port(), streamer=free_port())
    supervisor = Supervisor(env, log_dir=str(tmp_path), restart=False)
    for name, argv in processes.all_processes(ports).items():
        supervisor.start(name, argv)
    running = System(f"http://127.0.0.1:{ports.ingress}", f"http://127.0.0.1:{ports.streamer}",
                     redis_url, supervisor, env)
    try:
        wait_http_ok(f"{running.ingress_url}/readyz")
        wait_http_ok(f"{running.streamer_url}/readyz")
        yield running
    finally:
        supervisor.stop()
        _print_logs_on_failure(tmp_path)


def _print_logs_on_failure(tmp_path: Path) -> None:
    for log in sorted(tmp_path.glob("*.log")):
        tail = log.read_text(errors="replace")[-3000:]
        print(f"----- {log.name} (tail) -----\n{tail}")

"""Real headless Chromium against a real streamer process (or a scripted stand-in)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hookstream import processes
from hookstream.embedded import free_port
from hookstream.supervisor import Supervisor, wait_http_ok
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.browser.harness import ClientPage
from tests.integration.dashboard_support import dashboard_system  # noqa: F401  (fixture)
from tests.integration.streamer_support import JWT_SECRET

STREAMER_CONFIG = f"""
log_format = "json"
[streamer]
public_topics = ["public/#", "webhooks/#", "demo/#", "airtable/#", "trips/#", "plain/#"]
heartbeat_s = 1
jwt_secret = "{JWT_SECRET}"
drain_window_s = 0.5
"""


@dataclass
class RestartableStreamer:
    """One uvicorn streamer on a fixed port: SIGKILL it, start it again on the same port."""

    port: int
    supervisor: Supervisor

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.supervisor.start("streamer", processes.streamer(self.port))
        wait_http_ok(f"{self.url}/readyz")

    def kill(self) -> None:
        self.supervisor.signal("streamer", signal.SIGKILL)
        process = self.supervisor.children["streamer"].process
        assert process is not None
        process.wait(timeout=10)


@pytest.fixture
def streamer(tmp_path: Path, redis_url: str) -> Iterator[RestartableStreamer]:
    config = tmp_path / "streamer.toml"
    config.write_text(STREAMER_CONFIG)
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKSTREAM_")}
    env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=redis_url)
    supervisor = Supervisor(env, log_dir=str(tmp_path), restart=False)
    running = RestartableStreamer(free_port(), supervisor)
    running.start()
    try:
        yield running
    finally:
        supervisor.stop()
        for log in sorted(tmp_path.glob("*.log")):
            print(f"----- {log.name} (tail) -----\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def chromium():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def client_page(chromium) -> Iterator[ClientPage]:
    context = chromium.new_context()
    page = context.new_page()
    page.on("console", lambda message: print(f"[page] {message.type}: {message.text}"))
    page.on("pageerror", lambda error: print(f"[page] error: {error}"))
    try:
        yield ClientPage(page)
    finally:
        context.close()

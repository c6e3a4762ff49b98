"""Build and serve an emulator: ``serve(...)`` blocks; `EmulatorThread` runs one in a thread."""

from __future__ import annotations

import json
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

import uvicorn

from domains.airtable.emulator.app import create_app
from domains.airtable.emulator.ratelimit import RateLimiter
from domains.airtable.emulator.state import Emulator

DEMO_SEED = "demo"


def load_seed(seed: str | Path | None) -> dict[str, Any]:
    """A seed document from a JSON file, or the packaged demo base for ``"demo"``."""
    if seed is None:
        return {}
    if str(seed) == DEMO_SEED:
        text = resources.files("domains.airtable.emulator").joinpath("demo_base.json").read_text()
    else:
        text = Path(seed).read_text()
    document: dict[str, Any] = json.loads(text)
    return document


def build(*, seed: str | Path | None = None, tokens: frozenset[str] = frozenset(),
          rate_per_s: int = 5, penalty_s: float = 30.0, token_rate_per_s: int = 50) -> Emulator:
    emulator = Emulator(tokens=tokens,
                        limiter=RateLimiter(rate_per_s=rate_per_s, penalty_s=penalty_s,
                                            token_rate_per_s=token_rate_per_s))
    emulator.store.load(load_seed(seed), now_s=emulator.clock.now_s())
    return emulator


def serve(emulator: Emulator, *, host: str = "127.0.0.1", port: int = 8090) -> None:
    uvicorn.run(create_app(emulator), host=host, port=port, log_level="warning",
                access_log=False)


class EmulatorThread:
    """An emulator on a real port in a background thread (tests, the bench)."""

    def __init__(self, emulator: Emulator, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        config = uvicorn.Config(create_app(emulator), host=host, port=port,
                                log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        sockets = self._server.servers[0].sockets
        host, port = sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self, *, timeout_s: float = 10.0) -> EmulatorThread:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Airtable emulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

"""Start, watch and stop child processes: used by `hookstream dev` and the integration tests.

A child that exits on its own is restarted (with a short back-off) until
`stop()` is called; `stop()` sends SIGTERM, waits, then SIGKILLs stragglers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

import httpx

RESTART_DELAY_S = 0.5


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    log: IO[bytes] | None = field(default=None, repr=False)


class Supervisor:
    def __init__(self, env: Mapping[str, str], *, cwd: str | None = None,
                 log_dir: str | None = None, restart: bool = True) -> None:
        self._env = dict(env)
        self._cwd = cwd
        self._log_dir = log_dir
        self._restart = restart
        self.children: dict[str, Child] = {}
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self, name: str, argv: Sequence[str]) -> Child:
        child = Child(name, list(argv))
        if self._log_dir:
            child.log = open(os.path.join(self._log_dir, f"{name}.log"), "ab")  # noqa: SIM115
        self.children[name] = child
        self._spawn(child)
        if self._restart and self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, daemon=True, name="supervisor")
            self._watcher.start()
        return child

    def _spawn(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.argv, env=self._env, cwd=self._cwd, stdout=child.log, stderr=child.log,
            start_new_session=True)

    def _watch(self) -> None:
        while not self._stopping.wait(0.2):
            for child in list(self.children.values()):
                exited = child.process is not None and child.process.poll() is not None
                if exited and not self._stopping.is_set():
                    time.sleep(RESTART_DELAY_S)
                    if not self._stopping.is_set():
                        child.restarts += 1
                        self._spawn(child)

    def signal(self, name: str, signum: int) -> None:
        process = self.children[name].process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)

    def stop(self, *, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        for name in self.children:
            self.signal(name, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for child in self.children.values():
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
            if child.log:
                child.log.close()


def wait_http_ok(url: str, *, timeout_s: float = 30.0) -> None:
    """Poll *url* until it answers 200, or raise TimeoutError."""
    deadline = time.monotonic() + timeout_s
    last_error = "no answer"
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
            last_error = "not ready"
        except httpx.HTTPError as exc:
            last_error = type(exc).__name__
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout_s} s ({last_error})")

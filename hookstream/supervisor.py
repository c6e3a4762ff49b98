"""Start, watch, restart and stop child processes: `hookstream dev`, `hookstream worker`, tests.

A child that exits on its own is restarted until `stop()` is called, after a
back-off that doubles while it keeps dying young (`RESTART_DELAY_S` up to
`MAX_RESTART_DELAY_S`, reset once it has run `STABLE_AFTER_S`); before the
restart, whatever its process group left behind gets SIGTERM. `stop()` sends
SIGTERM to each child (its own graceful shutdown signals the rest of its
tree), waits, then SIGKILLs the group of any straggler.

If the supervisor itself dies without stopping them (SIGKILL, OOM), each child
gets SIGTERM from the kernel (Linux ``PR_SET_PDEATHSIG``) and shuts down
gracefully rather than running on as an orphan. The kernel sends it when the
*thread* that spawned the child exits: spawn from the main thread or the
supervisor's own watcher thread, which live as long as the process.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

import httpx

RESTART_DELAY_S = 0.5
MAX_RESTART_DELAY_S = 30.0
STABLE_AFTER_S = 10.0
WATCH_INTERVAL_S = 0.1
PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    restart_at: float | None = None
    delay_s: float = RESTART_DELAY_S
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
        self._lock = threading.Lock()
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
        child.started_at = time.monotonic()
        child.restart_at = None
        child.process = subprocess.Popen(
            child.argv, env=self._env, cwd=self._cwd, stdout=child.log, stderr=child.log,
            start_new_session=True, preexec_fn=_terminate_with_parent())

    def _watch(self) -> None:
        """Never dies: its children get SIGTERM from the kernel when it does."""
        while not self._stopping.wait(WATCH_INTERVAL_S):
            with self._lock:
                for child in list(self.children.values()):
                    if not self._stopping.is_set():
                        self._tend_safely(child)

    def _tend_safely(self, child: Child) -> None:
        try:
            self._tend(child)
        except Exception as exc:  # e.g. Popen failing with EMFILE: try again next round
            print(f"supervisor: could not tend {child.name}: {exc!r}", file=sys.stderr,
                  flush=True)

    def _tend(self, child: Child) -> None:
        process = child.process
        if process is None or process.poll() is None:
            return
        now = time.monotonic()
        if child.restart_at is None:
            self._schedule_restart(child, process, now)
        elif now >= child.restart_at:
            child.restarts += 1
            self._spawn(child)

    def _schedule_restart(self, child: Child, process: subprocess.Popen[bytes],
                          now: float) -> None:
        _signal_group(process.pid, signal.SIGTERM)  # orphans of a killed leader
        if now - child.started_at >= STABLE_AFTER_S:
            child.delay_s = RESTART_DELAY_S
        child.restart_at = now + child.delay_s
        child.delay_s = min(child.delay_s * 2, MAX_RESTART_DELAY_S)  # if it dies young again
        print(f"supervisor: {child.name} (pid {process.pid}) exited with {process.returncode}; "
              f"restarting in {child.restart_at - now:.1f} s", file=sys.stderr, flush=True)

    def signal(self, name: str, signum: int, *, group: bool = True) -> None:
        process = self.children[name].process
        if process is not None and process.poll() is None:
            if group:
                _signal_group(process.pid, signum)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signum)

    def stop(self, *, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        with self._lock:
            for name in self.children:
                self.signal(name, signal.SIGTERM, group=False)
        deadline = time.monotonic() + timeout_s
        for child in self.children.values():
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child.process.pid, signal.SIGKILL)
                child.process.wait()
            _signal_group(child.process.pid, signal.SIGKILL)  # whatever it left behind
            if child.log:
                child.log.close()


def _terminate_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook asking the kernel to SIGTERM the child when we die (Linux only).

    Resolved before the fork, so the child only makes two system calls; if we
    died before the request took effect, the child exits at once.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def hook() -> None:
        if prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0 or os.getppid() != parent:
            os._exit(1)

    return hook


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


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

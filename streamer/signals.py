"""Noticing SIGTERM ourselves, from lifespan start-up.

uvicorn, on SIGTERM, stops accepting and then waits for open connections
*before* it runs lifespan shutdown, and an SSE stream never ends by itself: so
the drain must start from the signal. We chain a handler onto the one uvicorn
installed (it keeps doing its part); `--timeout-graceful-shutdown` stays the
hard cap.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

import structlog

log = structlog.get_logger(__name__)
DRAIN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def on_shutdown_signal(callback: Callable[[], None]) -> Callable[[], None]:
    """Run *callback* on the loop at SIGTERM/SIGINT, then the previous handler.

    Returns a function restoring the previous handlers. Outside the main thread
    (uvicorn in a test thread) signals cannot be caught and nothing is chained.
    """
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {}

    def handle(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(callback)
        chained = previous.get(signum)
        if callable(chained):
            chained(signum, frame)

    try:
        for sig in DRAIN_SIGNALS:
            previous[sig] = signal.signal(sig, handle)
    except ValueError:
        log.info("streamer.signals_not_chained", reason="not the main thread")
    return lambda: _restore(previous)


def _restore(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        if signal.getsignal(sig) is not handler:
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

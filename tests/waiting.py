"""Wait on a positive witness, never a fixed sleep: poll until *predicate* holds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], *, timeout_s: float = 20.0,
               what: str = "condition") -> T:
    """Return *predicate*'s first truthy value; fail after *timeout_s*."""
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return value

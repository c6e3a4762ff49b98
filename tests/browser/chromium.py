"""Debian's Chromium driven by Playwright's Python API (never `playwright install`).

`scripts/test` installs the `chromium` package when it is missing and the user
is root. Elsewhere the browser tests skip with the reason, except under
``CI=true``, where a missing browser fails them.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def missing() -> str | None:
    """Why the browser cannot run here, or None."""
    if not CHROMIUM.exists():
        return (f"{CHROMIUM} is missing: run ./scripts/test as root (it installs Debian's "
                "chromium) or `apt-get install chromium`")
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed: pip install -e '.[test]'"
    return None


def require_chromium() -> None:
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot skip under CI=true: {reason}")
    pytest.skip(reason)

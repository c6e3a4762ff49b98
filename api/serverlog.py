"""gunicorn's own log lines (master and workers) in hookstream's structured format.

Passed as ``--logger-class api.serverlog.StructuredLogger`` (hookstream/processes.py).
gunicorn sets up its logger in the master before any worker exists; this class
lets it, then routes ``gunicorn.error`` through `configure_logging`, so "Booting
worker", "Worker exiting" and tracebacks are JSON lines like every other line.
With a configuration that does not load, gunicorn's default format stays and the
worker's `get_app` fails with the message that names the key. Level and
destination then come from hookstream's settings (``log_level``, stderr), not
from gunicorn's ``--log-level`` or ``--error-logfile``.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from common.errors import ConfigError
from common.logs import configure_logging
from common.settings import load_settings


class StructuredLogger(Logger):  # type: ignore[misc]  # gunicorn ships no types
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        try:
            settings = load_settings()
        except (ConfigError, OSError):
            return
        configure_logging(settings, process="ingress")

"""Structured logging: `configure_logging` once per process, then structlog everywhere.

JSON lines in production (or whenever stderr is not a terminal), a readable
console on a terminal. The stdlib loggers of gunicorn, uvicorn and dramatiq are
routed through the same processors. Context (request id, source, delivery id,
message id, event id) is bound with `structlog.contextvars` at the edge.
Values under secret-looking keys are masked before rendering.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, Processor

from common.settings import Settings

SECRET_KEY = re.compile(r"secret|token|password|authorization|signature|api_key|cookie", re.I)
MASK = "**********"


def redact_secrets(_: Any, __: str, event_dict: EventDict) -> EventDict:
    for key in event_dict:
        if SECRET_KEY.search(key):
            event_dict[key] = MASK
    return event_dict


def _renderer(settings: Settings) -> Processor:
    use_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not sys.stderr.isatty()
    )
    if use_json:
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())


def configure_logging(settings: Settings, *, process: str) -> None:
    """Route structlog and stdlib logging to stderr through one set of processors."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _renderer(settings),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # Access loggers stay off: they print whole query strings (an SSE
    # ?access_token=) and each process writes its own canonical request line.
    # With no handler to reach, uvicorn does not even format the line.
    for name in ("gunicorn.access", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.disabled = True
        logger.handlers[:] = []
        logger.propagate = False
    for name in ("gunicorn.error", "uvicorn", "uvicorn.error", "dramatiq"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    structlog.contextvars.bind_contextvars(process=process)

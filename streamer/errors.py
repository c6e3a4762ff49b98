"""Errors raised by `streamer`.

StreamerError
 └── Rejection   a request answered with an HTTP error before the stream opens
                 (400 bad request, 401 bad token, 403 topic not granted,
                 429 too many streams for one subject, 503 full or draining)
"""

from __future__ import annotations

from common.errors import HookstreamError


class StreamerError(HookstreamError):
    """Base of every error the streamer raises on purpose."""


class Rejection(StreamerError):
    """Refuse a request with *status* and a JSON ``{"error": {code, message}}`` body."""

    def __init__(self, status: int, code: str, message: str, *,
                 retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after_s = retry_after_s

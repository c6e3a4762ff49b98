"""CORS for ``/events``: an allowlist of origins (``*`` for any), credentials allowed.

Computed once per request (not per event); an origin outside the list gets no
CORS headers, so the browser refuses the stream. ``Retry-After`` is exposed so
a cross-origin ``client.js`` can honour it on 429/503.
"""

from __future__ import annotations

Headers = list[tuple[bytes, bytes]]
PREFLIGHT = [
    (b"access-control-allow-methods", b"GET, OPTIONS"),
    (b"access-control-allow-headers", b"authorization, last-event-id, cache-control"),
    (b"access-control-max-age", b"600"),
]


class CorsPolicy:
    def __init__(self, origins: list[str]) -> None:
        self._any = "*" in origins
        self._origins = {origin.rstrip("/").encode() for origin in origins}

    def headers(self, request_headers: dict[bytes, bytes]) -> Headers:
        origin = request_headers.get(b"origin")
        if origin is None or not (self._any or origin in self._origins):
            return []
        return [(b"access-control-allow-origin", origin),
                (b"access-control-allow-credentials", b"true"),
                (b"access-control-expose-headers", b"retry-after"),
                (b"vary", b"Origin")]

    def preflight(self, request_headers: dict[bytes, bytes]) -> Headers:
        allowed = self.headers(request_headers)
        return allowed + PREFLIGHT if allowed else []

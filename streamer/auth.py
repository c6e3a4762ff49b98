"""Subscriber auth for the streamer: the shared grant rule (`common.grants`) as `Rejection`s.

The token comes as ``Authorization: Bearer``, an HttpOnly cookie or an
``access_token`` query parameter (for EventSource, which cannot set headers).
Without a token only public topics may be read. A bad or expired token is 401;
a topic outside the grant (and outside the public topics) is 403. The ingress's
SQL snapshot endpoint applies the same rule through `common.grants`.
"""

from __future__ import annotations

from common import grants
from common.grants import ANONYMOUS, Grant, GrantRefused
from common.settings import StreamerSettings
from streamer.errors import Rejection

__all__ = ["ANONYMOUS", "Grant", "TokenVerifier", "authorise"]


class TokenVerifier:
    """Checks tokens with PyJWT against the configured key and algorithms."""

    def __init__(self, settings: StreamerSettings) -> None:
        self._verifier = grants.TokenVerifier(settings)

    def verify(self, token: str) -> Grant:
        try:
            return self._verifier.verify(token)
        except GrantRefused as exc:
            raise Rejection(exc.status, exc.code, exc.message) from None


def authorise(patterns: tuple[str, ...], grant: Grant, public: list[str]) -> None:
    """Raise 401 (no token) or 403 (token without it) for a pattern outside the grant."""
    try:
        grants.authorise(patterns, grant, public)
    except GrantRefused as exc:
        raise Rejection(exc.status, exc.code, exc.message) from None

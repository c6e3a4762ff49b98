"""Subscriber auth: a JWT whose claim lists the topic patterns its holder may read.

The token comes as ``Authorization: Bearer``, an HttpOnly cookie or an
``access_token`` query parameter (for EventSource, which cannot set headers).
Without a token only public topics may be read. A bad or expired token is 401;
a topic outside the grant (and outside the public topics) is 403.

Claims: ``sub`` (the subject, for per-subject limits), ``exp`` (the stream closes
then), and the configured claim (default ``topics``): a list of patterns, or one
space-separated string of them.
"""

from __future__ import annotations

from common.errors import TokenRejected
from common.grants import ANONYMOUS, Grant
from common.grants import TokenVerifier as GrantVerifier
from common.topics import covers
from streamer.errors import Rejection

__all__ = ["ANONYMOUS", "Grant", "TokenVerifier", "authorise"]


class TokenVerifier(GrantVerifier):
    """The shared verifier (common/grants.py), its refusals as 401 `Rejection`s."""

    def verify(self, token: str) -> Grant:
        try:
            return super().verify(token)
        except TokenRejected as exc:
            message = ("this streamer has no token key configured"
                       if exc.code == "tokens_disabled" else exc.message)
            raise Rejection(401, exc.code, message) from None


def authorise(patterns: tuple[str, ...], grant: Grant, public: list[str]) -> None:
    """Raise 401 (no token) or 403 (token without it) for a pattern outside the grant."""
    for pattern in patterns:
        if any(covers(open_pattern, pattern) for open_pattern in public):
            continue
        if grant.allows(pattern):
            continue
        if grant is ANONYMOUS:
            raise Rejection(401, "token_required",
                            f"topic {pattern!r} is not public; a token is required")
        raise Rejection(403, "topic_forbidden", f"the token does not grant topic {pattern!r}")

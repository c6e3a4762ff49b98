"""Subscriber grants: a JWT whose claim lists the topic patterns its holder may read.

Shared by the streamer (``GET /events``) and the ingress (``GET /sql/{watch}/snapshot``),
so both apply one rule. Refusals raise `GrantRefused` with the HTTP status and
code; each app translates it into its own error type.

The token comes as ``Authorization: Bearer``, an HttpOnly cookie or an
``access_token`` query parameter (for EventSource, which cannot set headers).
Without a token only public topics may be read. A bad or expired token is 401;
a topic outside the grant (and outside the public topics) is 403.

Claims: ``sub`` (the subject, for per-subject limits), ``exp`` (the stream closes
then), and the configured claim (default ``topics``): a list of patterns, or one
space-separated string of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from common.errors import HookstreamError, InvalidTopic
from common.settings import StreamerSettings
from common.topics import covers, validate_pattern


class GrantRefused(HookstreamError):
    """A token or topic refused: *status* 401 (no/bad token) or 403 (topic not granted)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Grant:
    """What one token (or no token) lets its holder read."""

    subject: str | None
    patterns: tuple[str, ...]
    expires_at_s: float | None

    def allows(self, pattern: str) -> bool:
        return any(covers(granted, pattern) for granted in self.patterns)


ANONYMOUS = Grant(subject=None, patterns=(), expires_at_s=None)


class TokenVerifier:
    """Checks tokens with PyJWT against the configured key and algorithms."""

    def __init__(self, settings: StreamerSettings) -> None:
        self._algorithms = list(settings.jwt_algorithms)
        self._key = _verification_key(settings)
        self._claim = settings.jwt_claim
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer

    def verify(self, token: str) -> Grant:
        if self._key is None:
            raise GrantRefused(401, "tokens_disabled", "this streamer has no token key configured")
        claims = self._decode(token, self._key)
        expires = claims.get("exp")
        return Grant(subject=_subject(claims), patterns=self._patterns(claims),
                     expires_at_s=float(expires) if expires is not None else None)

    def _decode(self, token: str, key: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=self._algorithms, audience=self._audience,
                issuer=self._issuer, options={"require": ["exp"]})
        except jwt.ExpiredSignatureError:
            raise GrantRefused(401, "token_expired", "the token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise GrantRefused(401, "invalid_token", f"the token is not valid: {exc}") from None
        return claims

    def _patterns(self, claims: dict[str, Any]) -> tuple[str, ...]:
        raw = claims.get(self._claim, [])
        listed = raw.split() if isinstance(raw, str) else raw
        if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
            raise GrantRefused(401, "invalid_token",
                            f"claim {self._claim!r} must be a list of topic patterns")
        try:
            return tuple(validate_pattern(pattern) for pattern in listed)
        except InvalidTopic as exc:
            raise GrantRefused(401, "invalid_token", f"claim {self._claim!r}: {exc}") from None


def authorise(patterns: tuple[str, ...], grant: Grant, public: list[str]) -> None:
    """Raise 401 (no token) or 403 (token without it) for a pattern outside the grant."""
    for pattern in patterns:
        if any(covers(open_pattern, pattern) for open_pattern in public):
            continue
        if grant.allows(pattern):
            continue
        if grant is ANONYMOUS:
            raise GrantRefused(401, "token_required",
                            f"topic {pattern!r} is not public; a token is required")
        raise GrantRefused(403, "topic_forbidden", f"the token does not grant topic {pattern!r}")


def _verification_key(settings: StreamerSettings) -> str | None:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    return settings.jwt_public_key


def _subject(claims: dict[str, Any]) -> str | None:
    subject = claims.get("sub")
    return str(subject) if subject is not None else None

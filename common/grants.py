"""Subscriber grants: a JWT whose claim lists the topic patterns its holder may read.

Shared by the streamer (``GET /events``) and the ingress (Airtable reads), so a
token that lets a page stream a table also lets it load the table.

Claims: ``sub`` (the subject), ``exp`` (required), and the configured claim
(``[streamer] jwt_claim``, default ``topics``): a list of patterns, or one
space-separated string of them. A bad or expired token is `TokenRejected`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from common.errors import InvalidTopic, TokenRejected
from common.settings import StreamerSettings
from common.topics import covers, validate_pattern


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
            raise TokenRejected("tokens_disabled", "no token key is configured")
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
            raise TokenRejected("token_expired", "the token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise TokenRejected("invalid_token", f"the token is not valid: {exc}") from None
        return claims

    def _patterns(self, claims: dict[str, Any]) -> tuple[str, ...]:
        raw = claims.get(self._claim, [])
        listed = raw.split() if isinstance(raw, str) else raw
        if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
            raise TokenRejected("invalid_token",
                                f"claim {self._claim!r} must be a list of topic patterns")
        try:
            return tuple(validate_pattern(pattern) for pattern in listed)
        except InvalidTopic as exc:
            raise TokenRejected("invalid_token", f"claim {self._claim!r}: {exc}") from None


def _verification_key(settings: StreamerSettings) -> str | None:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    return settings.jwt_public_key


def _subject(claims: dict[str, Any]) -> str | None:
    subject = claims.get("sub")
    return str(subject) if subject is not None else None

"""The seam every signature scheme implements, and what they share.

Headers are passed as a mapping with lower-case names. Comparisons are
constant-time over raw bytes (`hmac.compare_digest`).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import orjson


class InvalidSignature(Exception):
    """The delivery is not provably from the configured sender."""


class StaleTimestamp(InvalidSignature):
    """The signed timestamp is outside the tolerance window (a replay, or a bad clock)."""


@dataclass(frozen=True, slots=True)
class Verified:
    """What a successful verification learnt: the sender's delivery id, if it has one, and
    the parsed body when the scheme had to parse it (so it is not parsed twice)."""

    delivery_id: str | None
    document: dict[str, object] | None = None


class SignatureVerifier(Protocol):
    def verify(self, body: bytes, headers: Mapping[str, str]) -> Verified: ...


Clock = Callable[[], float]


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.digest(key, message, "sha256")


def any_equal(candidates: Iterable[bytes], expected: Iterable[bytes]) -> bool:
    """Constant-time per comparison; true when any candidate equals any expected value."""
    wanted = list(expected)
    found = False
    for candidate in candidates:
        for value in wanted:
            found |= hmac.compare_digest(candidate, value)
    return found


def require_header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise InvalidSignature(f"missing header {name}")
    return value


@dataclass(frozen=True, slots=True)
class Freshness:
    """How far a signed send time may be from now (replay protection), and the clock."""

    tolerance_s: int = 300
    clock: Clock = time.time

    def check(self, sent_at_s: float) -> None:
        skew_s = abs(self.clock() - sent_at_s)
        if skew_s > self.tolerance_s:
            raise StaleTimestamp(f"timestamp is {int(skew_s)} s away from now "
                                 f"(tolerance {self.tolerance_s} s)")

    def check_unix(self, raw: str) -> None:
        """Check a Unix-seconds header value; InvalidSignature if it is not an integer."""
        try:
            timestamp = int(raw)
        except ValueError:
            raise InvalidSignature("timestamp is not an integer") from None
        self.check(timestamp)


def utf8_keys(secrets: Iterable[str]) -> list[bytes]:
    """Secrets used as their UTF-8 bytes (GitHub, Stripe, Plain, generic HMAC)."""
    return [secret.encode() for secret in secrets]


def require_match(presented: Iterable[bytes], expected: Iterable[bytes], problem: str) -> None:
    """InvalidSignature(*problem*) unless a presented signature equals an expected one."""
    if not any_equal(presented, expected):
        raise InvalidSignature(problem)


def hex_digests(keys: Iterable[bytes], message: bytes) -> list[bytes]:
    """Lower-case hex HMAC-SHA256 of *message* under every key, as bytes for comparison."""
    return [hmac.digest(key, message, "sha256").hex().encode() for key in keys]


def strip_prefix(value: str, prefix: str) -> bytes:
    """The signature after *prefix* (case-insensitive), as bytes; InvalidSignature if absent."""
    if not value[: len(prefix)].lower() == prefix.lower():
        raise InvalidSignature(f"signature does not start with {prefix!r}")
    return value[len(prefix):].strip().lower().encode()


def signed_json_object(body: bytes) -> dict[str, object]:
    """The verified body as a JSON object (only call after the MAC matched)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidSignature("signed body is not JSON") from None
    if not isinstance(document, dict):
        raise InvalidSignature("signed body is not a JSON object")
    return document


def body_event_id(document: Mapping[str, object]) -> str | None:
    """The sender's event ``id`` in a verified JSON body, when it is a non-empty string."""
    event_id = document.get("id")
    return event_id if isinstance(event_id, str) and event_id else None

"""The seam every signature scheme implements, and what they share.

Headers are passed as a mapping with lower-case names. Comparisons are
constant-time over raw bytes (`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol


class InvalidSignature(Exception):
    """The delivery is not provably from the configured sender."""


class StaleTimestamp(InvalidSignature):
    """The signed timestamp is outside the tolerance window (a replay, or a bad clock)."""


@dataclass(frozen=True, slots=True)
class Verified:
    """What a successful verification learnt: the sender's delivery id, if it has one."""

    delivery_id: str | None


class SignatureVerifier(Protocol):
    def verify(self, body: bytes, headers: Mapping[str, str]) -> Verified: ...


Clock = Callable[[], float]


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


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


def check_timestamp(raw: str, *, tolerance_s: int, clock: Clock = time.time) -> int:
    try:
        timestamp = int(raw)
    except ValueError:
        raise InvalidSignature("timestamp is not an integer") from None
    skew_s = abs(clock() - timestamp)
    if skew_s > tolerance_s:
        raise StaleTimestamp(f"timestamp is {int(skew_s)} s away from now "
                             f"(tolerance {tolerance_s} s)")
    return timestamp

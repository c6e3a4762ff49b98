"""Errors raised by workers, and how foreign failures map onto them.

WorkerError
 ├── Transient           may work later: retried with exponential back-off and jitter,
 │   │                   at most ``max_retries`` times, then dead-lettered
 │   └── RateLimited     the other side said when to come back (429 + Retry-After):
 │                       retried after that wait (a `dramatiq.Retry` with its delay)
 ├── Permanent           fails the same way every time (4xx, invalid data, bad config):
 │                       dead-lettered at once, never retried
 └── DeadLetterNotFound  no dead letter has that id (the ``dlq`` command)

`classify` translates errors from httpx, redis and the rest of hookstream at
the boundary of an actor (`classified`); anything it does not know is left as
it is, and dramatiq's Retries middleware retries it like a transient failure.
"""

from __future__ import annotations

import email.utils
import functools
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import dramatiq
import httpx
import pydantic
import redis

from common.errors import (
    ConfigError,
    EventLogUnavailable,
    HookstreamError,
    InvalidTopic,
    TemplateError,
)
from common.events import InvalidEvent

DEFAULT_RETRY_AFTER_S = 30.0
RETRY_AFTER_JITTER = 0.1
TRANSIENT_STATUS = frozenset({408, 425, 429})
TRANSIENT_REDIS_REPLIES = ("OOM", "BUSY", "LOADING", "READONLY", "TRYAGAIN", "MASTERDOWN",
                           "CLUSTERDOWN")
PERMANENT_TYPES: tuple[type[BaseException], ...] = (
    TemplateError, InvalidEvent, InvalidTopic, ConfigError, pydantic.ValidationError,
    ValueError, TypeError, LookupError)
TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    EventLogUnavailable, httpx.TransportError, OSError)

P = ParamSpec("P")
R = TypeVar("R")


class WorkerError(HookstreamError):
    """Base of the errors workers raise on purpose."""


class Transient(WorkerError):
    """A failure that may not happen again: retry with back-off."""


class RateLimited(Transient, dramatiq.Retry):
    """The other side asked us to wait *retry_after_s* before trying again."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        delay_ms = int(retry_after_s * 1000 * random.uniform(1, 1 + RETRY_AFTER_JITTER))
        dramatiq.Retry.__init__(self, message, delay=delay_ms)
        self.retry_after_s = retry_after_s


class Permanent(WorkerError):
    """A failure that will happen every time: straight to the dead letters."""


class DeadLetterNotFound(WorkerError):
    """No dead letter matches the id given."""


def classify(exc: BaseException) -> WorkerError | None:
    """The hookstream error *exc* amounts to, or None when it is not known."""
    if isinstance(exc, WorkerError):
        return exc
    if isinstance(exc, httpx.HTTPStatusError):
        return _classify_status(exc.response)
    if isinstance(exc, redis.RedisError):
        return _classify_redis(exc)
    if isinstance(exc, TRANSIENT_TYPES):
        return Transient(_describe(exc))
    if isinstance(exc, PERMANENT_TYPES):
        return Permanent(_describe(exc))
    return None


def classified(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate an actor function so that what it raises is a `WorkerError` where known."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except WorkerError:
            raise
        except Exception as exc:
            mapped = classify(exc)
            if mapped is None:
                raise
            raise mapped from exc

    return wrapper


def retry_after_s(response: httpx.Response, *, default_s: float = DEFAULT_RETRY_AFTER_S) -> float:
    """The wait a Retry-After header asks for (seconds or an HTTP date), else *default_s*."""
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default_s
    return max(0.0, when.timestamp() - time.time())


def _classify_status(response: httpx.Response) -> WorkerError:
    status = response.status_code
    described = f"HTTP {status} from {response.request.url.copy_with(query=None)}"
    if status == 429:
        return RateLimited(described, retry_after_s=retry_after_s(response))
    if status >= 500 or status in TRANSIENT_STATUS:
        return Transient(described)
    return Permanent(described)


def _classify_redis(exc: redis.RedisError) -> WorkerError:
    if isinstance(exc, redis.ResponseError) and not str(exc).startswith(TRANSIENT_REDIS_REPLIES):
        return Permanent(_describe(exc))
    return Transient(_describe(exc))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"

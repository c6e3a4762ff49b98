"""Topic names and MQTT-style subscription patterns.

A topic is ``/``-separated segments (``plain/thread/th_1``). A pattern may use
``+`` for exactly one segment and ``#`` as its last segment for zero or more
remaining segments: ``plain/thread/+``, ``airtable/#``, ``#``.
"""

from __future__ import annotations

import re

from common.errors import InvalidTopic

MAX_TOPIC_CHARS = 256
SEGMENT = re.compile(r"^[A-Za-z0-9_.:@=~-]+$")
SINGLE = "+"
MULTI = "#"


def split(topic_or_pattern: str) -> list[str]:
    return topic_or_pattern.split("/")


def validate_topic(topic: str) -> str:
    """Return *topic* if it is a concrete topic name, else raise `InvalidTopic`."""
    _check_length(topic)
    for segment in split(topic):
        if not SEGMENT.match(segment):
            raise InvalidTopic(f"topic {topic!r}: segment {segment!r} is empty or has "
                               "characters outside A-Z a-z 0-9 _ . : @ = ~ -")
    return topic


def validate_pattern(pattern: str) -> str:
    """Return *pattern* if it is a valid subscription pattern, else raise `InvalidTopic`."""
    _check_length(pattern)
    segments = split(pattern)
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        if segment == MULTI and not last:
            raise InvalidTopic(f"pattern {pattern!r}: '#' may only be the last segment")
        if segment not in (SINGLE, MULTI) and not SEGMENT.match(segment):
            raise InvalidTopic(f"pattern {pattern!r}: bad segment {segment!r}")
    return pattern


def is_pattern(pattern: str) -> bool:
    return any(segment in (SINGLE, MULTI) for segment in split(pattern))


def matches(pattern: str, topic: str) -> bool:
    """True when *topic* is covered by *pattern*."""
    wanted, actual = split(pattern), split(topic)
    for position, segment in enumerate(wanted):
        if segment == MULTI:
            return True
        if position >= len(actual):
            return False
        if segment != SINGLE and segment != actual[position]:
            return False
    return len(wanted) == len(actual)


def covers(pattern: str, subscription: str) -> bool:
    """True when every topic *subscription* can match is also matched by *pattern*.

    Used for authorisation: a token granting ``orders/#`` covers a request for
    ``orders/+/paid`` but not for ``#``.
    """
    granted, wanted = split(pattern), split(subscription)
    for position, segment in enumerate(granted):
        if segment == MULTI:
            return True
        if position >= len(wanted) or wanted[position] == MULTI:
            return False
        if segment != SINGLE and (wanted[position] == SINGLE or segment != wanted[position]):
            return False
    return len(granted) == len(wanted)


def _check_length(value: str) -> None:
    if not value or len(value) > MAX_TOPIC_CHARS:
        raise InvalidTopic(f"topic must be 1 to {MAX_TOPIC_CHARS} characters, got {len(value)}")

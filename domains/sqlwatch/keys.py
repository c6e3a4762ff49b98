"""Redis key names of the SQL watches, all under the namespace, one hash tag per watch.

Every key of one watch shares the ``{sql.WATCH}`` hash tag, so the MULTI blocks
that write a watch's state and read a snapshot touch one slot.
"""

from __future__ import annotations


def _base(namespace: str, watch: str) -> str:
    return f"{namespace}:{{sql.{watch}}}"


def rows_key(namespace: str, watch: str) -> str:
    """HASH key id -> serialised `Entry` (topic + visible row): the last published rows."""
    return f"{_base(namespace, watch)}:rows"


def topic_key(namespace: str, watch: str, topic: str) -> str:
    """SET of the key ids whose row is on *topic* (for snapshots)."""
    return f"{_base(namespace, watch)}:topic:{topic}"


def meta_key(namespace: str, watch: str) -> str:
    """HASH: position (event-log id the rows correspond to), generation, watermark, times."""
    return f"{_base(namespace, watch)}:meta"


def lease_key(namespace: str, watch: str) -> str:
    """STRING: the token of the one reader of this watch."""
    return f"{_base(namespace, watch)}:reader"


def lock_key(namespace: str, watch: str) -> str:
    """STRING: held while a worker diffs this watch."""
    return f"{_base(namespace, watch)}:diffing"


def pending_key(namespace: str, watch: str) -> str:
    """STRING: a diff job of this watch is queued and not started."""
    return f"{_base(namespace, watch)}:pending"

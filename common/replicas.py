"""Replica confirmation before an effect outside Redis (synchronous redis-py callers).

Redis replicates asynchronously: a write the primary answered but no replica has
yet dies with the primary in a failover. Inside Redis that is harmless when the
writes are in order: a worker's publish is replicated before its job's ack, so a
publish lost in a failover comes back with the job's redelivery. It is not
harmless when something outside Redis follows the write: ``POST /publish``
answering 202, a SQL reader deleting the change-log rows it has published. Those
callers pass a barrier first: `ReplicaWait.confirm` writes a probe key and sends
``WAIT <replicas> <timeout>`` on the same connection, in one round trip. The
replication stream is ordered, so a replica that has the probe has every write
this process finished before it, whatever connection of the pool sent them.

The replica count is the one the primary reports (``ROLE``, asked again at most
every second), so a single server never waits; a replica that joins counts once
it acknowledges. A count that falls is believed only ``grace_s`` after the fall
(or a shortfall just before it): the old primary of a failover, whose replica
was promoted, lists none. Unlike the webhook path (``api/resp.py``, which ties
the count to the server's address and asks every sentinel on each reconnect),
this count is not tied to a server, so a new primary whose old peer has not
rejoined also waits out the grace (503s for ~``grace_s``), and the pool is
trusted to leave a demoted primary within it (`common.sentinel.PrimaryWatch`).
A primary cut off from the sentinels but not from us is beyond this: configure
``min-replicas-to-write`` on the servers for that.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis
import structlog

from common.errors import EventLogUnavailable, ReplicasBehind
from common.keys import replica_probe_key
from common.redis import text
from common.settings import Settings

log = structlog.get_logger(__name__)
RECOUNT_INTERVAL_S = 1.0
PROBE_TTL_MS = 60_000
PROBE_MS = 10  # how long a newly listed replica has to acknowledge before it counts


class ReplicaBarrier(Protocol):
    def confirm(self) -> None:
        """Return once every write this process finished is on the replicas; else raise
        `ReplicasBehind` (or `EventLogUnavailable` when Redis does not answer)."""


class NoBarrier:
    """No replicas to wait for (tests, tools, a deliberate 0 ms timeout)."""

    def confirm(self) -> None:
        return None


class LaggingReplicas:
    """A fake `ReplicaBarrier`: the replicas fall behind on the first *behind* calls."""

    def __init__(self, behind: int = 1) -> None:
        self.behind = behind
        self.calls = 0

    def confirm(self) -> None:
        self.calls += 1
        if self.calls <= self.behind:
            raise ReplicasBehind("0 of 1 replicas confirmed the write (fake)")


class ReplicaWait:
    """`ReplicaBarrier` on a real primary: a probe write and one WAIT, pipelined."""

    def __init__(self, client: redis.Redis, *, probe_key: str, timeout_ms: int,
                 grace_s: float, now: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._probe_key = probe_key
        self._timeout_ms = timeout_ms
        self._grace_s = grace_s
        self._now = now
        self._expected = 0
        self._counted = False
        self._recount_at = 0.0
        self._shortfall_at: float | None = None  # the first of the latest run of shortfalls
        self._fell_at: float | None = None  # when the primary first listed fewer than expected
        self._lock = threading.Lock()

    def confirm(self) -> None:
        try:
            expected = self.expected()
            if not expected:
                return
            pipe = self._client.pipeline(transaction=False)
            pipe.set(self._probe_key, 1, px=PROBE_TTL_MS)
            pipe.wait(expected, self._timeout_ms)
            _, acked = pipe.execute()
        except redis.RedisError as exc:
            raise EventLogUnavailable(f"replica confirmation failed: {exc}") from exc
        if int(acked) < expected:
            with self._lock:
                self._remember_shortfall()
            log.warning("redis.replicas_behind", expected=expected, acked=int(acked),
                        timeout_ms=self._timeout_ms)
            raise ReplicasBehind(f"{acked} of {expected} replicas confirmed the write "
                                 f"within {self._timeout_ms} ms")
        with self._lock:
            self._shortfall_at = None  # they all answered

    def expected(self) -> int:
        """How many replicas a write must reach, from the primary's ``ROLE`` (every second).

        A replica listed beyond the count is counted once it acknowledges a probe
        within `PROBE_MS` (a rejoining replica is listed as soon as it has its copy,
        but acknowledges only after loading it: counting it at once would refuse
        writes meanwhile). A count that falls is believed only `grace_s` after the
        doubt began (the first shortfall, or the first count that fell): a primary
        whose replica was just promoted lists none, and writes to it would be lost;
        within the grace the sentinels name the new primary and the pool moves there.
        """
        with self._lock:  # request threads and reader threads share one barrier
            return self._count()

    def _count(self) -> int:
        now = self._now()
        if self._counted and now < self._recount_at:
            return self._expected
        listed = replicas_of(self._client.role())  # raises: no count, and no write confirmed
        self._recount_at = now + RECOUNT_INTERVAL_S
        if not self._counted:
            self._expected, self._counted = listed, True
        elif listed > self._expected:
            self._fell_at = None
            if self._acknowledged(listed):
                log.info("redis.replicas_joined", replicas=listed)
                self._expected = listed
        elif listed < self._expected:
            since = self._doubt_since(now)
            if now - since >= self._grace_s:
                log.info("redis.replicas_left", replicas=listed, expected=self._expected)
                self._expected, self._fell_at = listed, None
            else:  # look again the moment the grace ends, not up to a second later
                self._recount_at = min(self._recount_at, since + self._grace_s)
        else:
            self._fell_at = None
        return self._expected

    def _doubt_since(self, now: float) -> float:
        """When the doubt about a fallen count began: when the fall was first seen, or the
        start of a run of shortfalls that came within `grace_s` before it."""
        if self._fell_at is None:
            self._fell_at = now
        shortfall = self._shortfall_at
        if shortfall is not None and 0 <= self._fell_at - shortfall < self._grace_s:
            return shortfall  # the shortfalls came first: the grace runs from them
        return self._fell_at

    def _remember_shortfall(self) -> None:
        now = self._now()
        if self._shortfall_at is None or now - self._shortfall_at >= self._grace_s:
            self._shortfall_at = now

    def count_now(self) -> None:
        """Count the replicas at start-up, while the deployment is (most likely) healthy.

        Counted lazily instead, a process whose first write comes in a failover
        would take the old primary's "no replica" at its word and lose its writes."""
        try:
            self.expected()
        except redis.RedisError as exc:
            log.warning("redis.replicas_not_counted", error=str(exc))

    def _acknowledged(self, listed: int) -> bool:
        pipe = self._client.pipeline(transaction=False)
        pipe.set(self._probe_key, 1, px=PROBE_TTL_MS)
        pipe.wait(listed, PROBE_MS)
        return int(pipe.execute()[1]) >= listed

def replicas_of(role: Any) -> int:
    """The number of replicas in a ``ROLE`` reply (0 when the server is not a primary)."""
    if not role or text(role[0]) != "master":
        return 0
    return len(role[2]) if len(role) > 2 and role[2] else 0


def barrier(client: redis.Redis, settings: Settings) -> ReplicaBarrier:
    """The barrier a composition root hands out, from ``[events]``: none when
    ``replica_ack_timeout_ms`` is 0; else counted now, at start-up."""
    events = settings.events
    if events.replica_ack_timeout_ms <= 0:
        return NoBarrier()
    wait = ReplicaWait(client, probe_key=replica_probe_key(settings.workers.namespace),
                       timeout_ms=events.replica_ack_timeout_ms, grace_s=events.replica_grace_s)
    wait.count_now()
    return wait

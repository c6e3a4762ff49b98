import asyncio

import pytest

from streamer.frames import event_frame
from streamer.subscriber import Subscriber


def test_frames_cannot_inject_lines():
    frame = event_frame("1-0", "evil\nevent: admin", b'{"x":1}')
    assert frame == b'id: 1-0\nevent: evilevent: admin\ndata: {"x":1}\n\n'


def test_overflow_by_count_closes_the_subscriber():
    sub = Subscriber(("a",), max_events=2, max_bytes=10_000)
    assert sub.push(b"1") and sub.push(b"2")
    assert not sub.push(b"3")
    assert sub.closed and sub.close_reason == "slow_consumer"


def test_overflow_by_bytes_closes_the_subscriber():
    sub = Subscriber(("a",), max_events=100, max_bytes=10)
    assert not sub.push(b"x" * 11)
    assert sub.close_reason == "slow_consumer"


@pytest.mark.anyio
async def test_wait_wakes_on_push_and_take_drains():
    sub = Subscriber(("a",), max_events=10, max_bytes=1000)
    waiter = asyncio.create_task(sub.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    sub.push(b"a")
    sub.push(b"b")
    await asyncio.wait_for(waiter, 1)
    assert sub.take() == b"ab"
    assert sub.queued_bytes == 0

import asyncio

import pytest

from streamer.frames import event_frame, reset_frame, retry_frame
from streamer.peers import encode_chunk
from streamer.subscriber import Subscriber


class FakePeer:
    """A hand-written `Peer`: records writes, can be paused or gone."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.paused = False
        self.is_gone = False
        self.aborted = False

    def gone(self):
        return self.is_gone

    def writable(self):
        return not (self.paused or self.is_gone)

    def write(self, body):
        self.written.append(body)

    def write_encoded(self, body, chunk):
        assert chunk == encode_chunk(body)
        self.written.append(body)

    def watch(self, waiter):
        pass

    def unwatch(self, waiter):
        pass

    def abort(self):
        self.aborted = True

    def release(self):
        pass


def test_frames_cannot_inject_lines():
    frame = event_frame("1-0", "evil\nevent: admin", b'{"x":1}')
    assert frame == b'id: 1-0\nevent: evilevent: admin\ndata: {"x":1}\n\n'
    assert reset_frame("5-0\r\nid: 9", "x").startswith(b"id: 5-0id: 9\nevent: reset\n")


def test_overflow_by_count_cuts_off_and_aborts_the_peer():
    peer = FakePeer()
    sub = Subscriber(("a",), max_events=2, max_bytes=10_000, peer=peer)
    assert sub.push(b"1") and sub.push(b"2")
    assert not sub.push(b"3")
    assert sub.closed and sub.close_reason == "slow_consumer"
    assert peer.aborted and sub.frames == []


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


@pytest.mark.anyio
async def test_an_idle_stream_is_written_directly_and_a_paused_one_is_woken():
    peer = FakePeer()
    sub = Subscriber(("a",), max_events=10, max_bytes=1000, peer=peer)
    waiter = asyncio.create_task(sub.wait())
    await asyncio.sleep(0)
    assert sub.send_now(b"x", encode_chunk(b"x"))
    sub.push(b"y")
    sub.push(b"z")
    sub.flush()
    assert peer.written == [b"x", b"yz"] and not waiter.done()
    peer.paused = True
    assert not sub.send_now(b"w", encode_chunk(b"w"))
    sub.push(b"w")
    sub.flush()
    await asyncio.wait_for(waiter, 1)
    assert sub.take() == b"w"


def test_opening_frame_names_retry_and_heartbeat_interval():
    frame = retry_frame(3000, heartbeat_s=1.5)
    assert b"retry: 3000\n" in frame
    assert b": connected heartbeat_ms=1500\n" in frame
    assert frame.endswith(b"\n\n")

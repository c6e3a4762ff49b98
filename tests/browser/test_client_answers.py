"""client.js in real Chromium against a scripted stand-in: status codes, silence, a dead server."""

from __future__ import annotations

import time

import pytest

from tests.browser.fake_streamer import FakeStreamer, Reply
from tests.browser.harness import ClientPage

pytestmark = pytest.mark.browser
HELLO = b"retry: 3000\n: connected heartbeat_ms=200\n\n"


def event(position: str) -> bytes:
    return (f'id: {position}\nevent: test.event\ndata: {{"id": "e{position}", '
            f'"type": "test.event", "data": {{}}}}\n\n').encode()


def test_503_waits_its_retry_after(client_page: ClientPage):
    replies = [Reply(503, {"Retry-After": "2"}), Reply(frames=(HELLO, event("1-0")))]
    with FakeStreamer(replies).running() as fake:
        client_page.start(fake.url, path="/", topics=["a"])
        assert client_page.wait_got(1) == ["1-0"]
        statuses = client_page.statuses()
        first, second = fake.requests[:2]
    assert 2.0 <= second.at_s - first.at_s < 3.5
    steps = [(s["status"], s.get("reason"), s.get("retryInMs")) for s in statuses]
    assert steps == [("connecting", None, None), ("reconnecting", "http_503", 2000),
                     ("open", None, None)]


def test_a_silent_stream_is_dead_after_two_and_a_half_heartbeats(client_page: ClientPage):
    replies = [Reply(frames=(HELLO, event("1-0"))), Reply(frames=(HELLO, event("2-0")))]
    with FakeStreamer(replies).running() as fake:
        client_page.start(fake.url, path="/", topics=["a"], retryBaseMs=50)
        assert client_page.wait_got(2) == ["1-0", "2-0"]
        first, second = fake.requests[:2]
        assert second.headers["last-event-id"] == "1-0"
    assert 0.45 <= second.at_s - first.at_s < 3.0  # 2.5 x 200 ms, plus at most 50 ms backoff
    assert any(s.get("reason") == "dead" for s in client_page.statuses())


def test_replayed_ids_already_seen_are_dropped(client_page: ClientPage):
    replies = [Reply(frames=(HELLO, event("1-0"), event("2-0")), hold=False),
               Reply(frames=(HELLO, event("1-0"), event("2-0"), event("3-0")))]
    with FakeStreamer(replies).running() as fake:
        client_page.start(fake.url, path="/", topics=["a"], retryBaseMs=50)
        client_page.wait_got(3)
        time.sleep(0.3)  # nothing more may come: the stand-in has nothing else to send
        assert client_page.value("window.got") == ["1-0", "2-0", "3-0"]
        assert fake.requests[1].headers["last-event-id"] == "2-0"


def test_204_stops_for_good(client_page: ClientPage):
    with FakeStreamer([Reply(204)]).running() as fake:
        client_page.start(fake.url, path="/", topics=["a"])
        client_page.wait_status("closed")
        assert client_page.statuses()[-1]["reason"] == "no_content"
        assert len(fake.requests) == 1


def test_401_asks_get_token_once_and_a_second_401_closes(client_page: ClientPage):
    client_page.page.expose_function("mint", lambda: "fresh-token")
    with FakeStreamer([Reply(401)]).running() as fake:
        client_page.start(fake.url, path="/", topics=["a"], mint=True)
        client_page.wait_status("closed")
        assert client_page.value("window.tokens") == 2  # the first token, then once on 401
        assert [r.headers.get("authorization") for r in fake.requests] == [
            "Bearer fresh-token", "Bearer fresh-token"]
    assert client_page.statuses()[-1]["reason"] == "http_401"


def test_a_down_server_is_not_hammered(client_page: ClientPage):
    """Full-jitter back-off, scaled down tenfold: base 100 ms, cap 3 s, watched for 6 s.

    The same curve as the defaults (base 1 s, cap 30 s) over 60 s: expected ~8 requests.
    """
    with FakeStreamer([Reply(502)]).running() as fake:
        client_page.start(fake.url, path="/", topics=["a"], retryBaseMs=100, retryMaxMs=3000)
        started = time.time()
        client_page.wait("window.statuses.length > 0")
        client_page.page.wait_for_timeout(6000)
        count = sum(1 for r in fake.requests if r.at_s - started <= 6.0)
    drawn = [s["retryInMs"] for s in client_page.statuses() if s["status"] == "reconnecting"]
    print(f"down server: {count} requests in 6 s (scaled 60 s), backoffs drawn {drawn}")
    assert 3 <= count <= 15
    assert max(drawn) <= 3000


def test_429_waits_its_retry_after_given_as_a_date(client_page: ClientPage):
    from email.utils import formatdate

    replies = [Reply(429, {"Retry-After": formatdate(time.time() + 3, usegmt=True)}),
               Reply(frames=(HELLO, event("1-0")))]
    with FakeStreamer(replies).running() as fake:
        client_page.start(fake.url, path="/", topics=["a"])
        client_page.wait_got(1)
        first, second = fake.requests[:2]
    assert 1.5 <= second.at_s - first.at_s < 4.5  # a date has whole seconds


def test_close_stops_every_request_and_listeners_can_unsubscribe(client_page: ClientPage):
    with FakeStreamer([Reply(502)]).running() as fake:
        client_page.start(fake.url, path="/", topics=["a"], retryBaseMs=20, retryMaxMs=50)
        client_page.wait("window.statuses.filter((s) => s.status === 'reconnecting').length >= 3")
        client_page.value("window.stream.close()")
        client_page.wait_status("closed")
        requests = len(fake.requests)
        client_page.page.wait_for_timeout(1000)  # twenty times the longest back-off
        assert len(fake.requests) <= requests + 1  # at most the one already on the wire
    unsubscribed = client_page.value("""() => {
      const calls = [];
      const off = window.stream.on("x", () => calls.push(1));
      off();
      return calls.length === 0 && typeof off === "function";
    }""")
    assert unsubscribed


def test_a_token_without_exp_is_not_renewed_in_a_loop(client_page: ClientPage):
    import jwt

    client_page.page.expose_function("mint", lambda: jwt.encode({"sub": "u1"}, "k" * 32))
    with FakeStreamer([Reply(frames=(HELLO, event("1-0")))]).running() as fake:
        client_page.start(fake.url, path="/", topics=["a"], mint=True)
        client_page.wait_got(1)
        client_page.page.wait_for_timeout(1500)  # a renewal loop would call getToken at once
        assert client_page.value("window.tokens") == 1
        assert len(fake.requests) >= 1


def test_an_on_reset_handler_that_throws_still_releases_the_events(client_page: ClientPage):
    reset = b'id: 5-0\nevent: reset\ndata: {"reason": "history_trimmed", "position": "5-0"}\n\n'
    with FakeStreamer([Reply(frames=(HELLO, reset, event("6-0")))]).running() as fake:
        client_page.start(fake.url, path="/", topics=["a"], lastEventId="1-0",
                          throwing_reset=True)
        assert client_page.wait_got(1) == ["6-0"]
    assert client_page.value("window.steps") == ["reset threw", "event 6-0"]


def test_an_event_id_seen_at_another_position_is_dropped(client_page: ClientPage):
    """After a Redis failover a job run again publishes its event anew: same id, new position."""
    again = (b'id: 3-0\nevent: test.event\n'
             b'data: {"id": "e1-0", "type": "test.event", "data": {}}\n\n')
    replies = [Reply(frames=(HELLO, event("1-0"), event("2-0"), again, event("4-0")))]
    with FakeStreamer(replies).running() as fake:
        client_page.start(fake.url, path="/", topics=["a"])
        client_page.wait_got(3)
        time.sleep(0.3)
        assert client_page.value("window.got") == ["1-0", "2-0", "4-0"]
        assert client_page.value("stream.lastEventId") == "4-0"

import pytest

from streamer.clock import Expiries, Rate
from streamer.cors import CorsPolicy
from streamer.errors import Rejection
from streamer.limits import ConnectionLimits
from streamer.subscriber import Subscriber


def test_limits_per_process_503_and_per_subject_429_with_retry_after():
    limits = ConnectionLimits(max_total=3, max_per_subject=2, retry_after_s=7)
    limits.acquire("a")
    limits.acquire("a")
    with pytest.raises(Rejection) as per_subject:
        limits.acquire("a")
    assert (per_subject.value.status, per_subject.value.retry_after_s) == (429, 7)
    limits.acquire(None)
    with pytest.raises(Rejection) as full:
        limits.acquire("b")
    assert full.value.status == 503
    limits.release("a")
    limits.acquire("b")
    assert limits.by_subject == {"a": 1, "b": 1} and limits.total == 3


def test_cors_allowlist_and_wildcard():
    policy = CorsPolicy(["https://app.example/"])
    allowed = policy.headers({b"origin": b"https://app.example"})
    assert (b"access-control-allow-origin", b"https://app.example") in allowed
    assert (b"access-control-expose-headers", b"retry-after") in allowed  # client.js reads it
    assert policy.headers({b"origin": b"https://evil.example"}) == []
    assert policy.headers({}) == []
    assert policy.preflight({b"origin": b"https://evil.example"}) == []
    assert CorsPolicy(["*"]).headers({b"origin": b"https://any.example"})


def test_expiries_pop_in_order_and_compact():
    expiries = Expiries()
    subs = [Subscriber(("a",), max_events=1, max_bytes=1024) for _ in range(3)]
    for when, sub in zip((30.0, 10.0, 20.0), subs, strict=True):
        expiries.add(sub, when)
    assert list(expiries.due(25.0)) == [subs[1], subs[2]]
    expiries.compact(lambda sub: False)
    assert len(expiries) == 0


def test_rate_over_samples():
    rate = Rate()
    assert rate.per_second() == 0.0
    rate.sample(0.0, 100)
    rate.sample(2.0, 300)
    assert rate.per_second() == 100.0

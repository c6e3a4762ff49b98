"""The auth matrix against a real streamer: none, bad, expired, wrong topic, right topic,
cookie, query parameter; per-subject limits; the stream ends when the token expires."""

import httpx
import pytest

from tests.integration.streamer_support import (
    publish,
    publisher,
    token,
)
from tests.sse_client import SseReader

pytestmark = pytest.mark.integration
PRIVATE = "tenant/acme/orders"


def status_of(url: str, *, topic: str = PRIVATE, **kwargs) -> tuple[int, str | None]:
    params = {"topic": topic, **kwargs.pop("params", {})}
    with httpx.stream("GET", f"{url}/events", params=params, timeout=10, **kwargs) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code, response.json()["error"]["code"]
        return 200, None


def test_the_auth_matrix(start_streamers):
    streamer = start_streamers(1)
    url = streamer.urls[0]
    right = token(["tenant/acme/#"])
    bearer = {"Authorization": "Bearer " + right}
    cases = {
        "no token, public topic": ({"topic": "public/news"}, (200, None)),
        "no token, private topic": ({}, (401, "token_required")),
        "bad signature": ({"headers": {"Authorization": "Bearer " + token(["#"], secret="x" * 32)}},
                          (401, "invalid_token")),
        "garbage": ({"headers": {"Authorization": "Bearer not.a.jwt"}}, (401, "invalid_token")),
        "expired": ({"headers": {"Authorization": "Bearer " + token(["#"], ttl_s=-60)}},
                    (401, "token_expired")),
        "wrong topic": ({"headers": {"Authorization": "Bearer " + token(["tenant/other/#"])}},
                        (403, "topic_forbidden")),
        "wider than granted": ({"topic": "tenant/#", "headers": dict(bearer)},
                               (403, "topic_forbidden")),
        "right topic, header": ({"headers": dict(bearer)}, (200, None)),
        "right topic, cookie": ({"cookies": {"hookstream_token": right}}, (200, None)),
        "right topic, query": ({"params": {"access_token": right}}, (200, None)),
    }
    for name, (kwargs, expected) in cases.items():
        cookies = kwargs.pop("cookies", None)
        client_kwargs = {"headers": kwargs.pop("headers", {})}
        if cookies:
            client_kwargs["headers"]["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        assert status_of(url, **kwargs, **client_kwargs) == expected, name
    streamer.supervisor.stop()  # every line written: the process has exited
    logs = streamer.logs()
    assert right not in logs
    assert "access_token=" not in logs or "access_token=**********" in logs


def test_private_events_reach_only_granted_streams_and_replay_is_filtered(start_streamers,
                                                                         redis_url):
    url = start_streamers(1).urls[0]
    log = publisher(redis_url)
    start = publish(log, "public/marker", 0)
    mine = publish(log, PRIVATE, 1)
    publish(log, "tenant/other/orders", 2)
    reader = SseReader(f"{url}/events", params={"topic": "tenant/acme/#"},
                       headers={"Authorization": "Bearer " + token(["tenant/acme/#"]),
                                "Last-Event-ID": start}).wait_connected()
    try:
        assert reader.next_event(timeout_s=15).id == mine
        live = publish(log, "tenant/acme/invoices", 3)
        publish(log, "tenant/other/invoices", 4)
        assert reader.next_event(timeout_s=15).id == live
    finally:
        reader.close()


def test_per_subject_limit_answers_429_with_retry_after(start_streamers):
    url = start_streamers(1).urls[0]
    headers = {"Authorization": "Bearer " + token(["tenant/acme/#"], sub="greedy")}
    open_streams = [SseReader(f"{url}/events", params={"topic": PRIVATE},
                              headers=headers).wait_connected() for _ in range(2)]
    try:
        response = httpx.get(f"{url}/events", params={"topic": PRIVATE}, headers=headers,
                             timeout=10)
        assert response.status_code == 429
        assert response.headers["retry-after"]
        other = {"Authorization": "Bearer " + token(["tenant/acme/#"], sub="someone-else")}
        assert status_of(url, headers=other) == (200, None)
    finally:
        for reader in open_streams:
            reader.close()


def test_the_stream_closes_when_the_token_expires(start_streamers):
    url = start_streamers(1).urls[0]
    reader = SseReader(f"{url}/events", params={"topic": PRIVATE},
                       headers={"Authorization": "Bearer " + token(["#"], ttl_s=2)})
    try:
        reader.wait_connected()
        assert reader.ended.wait(20), "stream outlived its token"
    finally:
        reader.close()

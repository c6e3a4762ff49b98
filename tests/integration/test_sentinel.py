"""Sentinel: every process on a ``redis+sentinel://`` URL, and a forced failover mid-burst.

A real primary, replica and three sentinels; the real ingress, worker,
scheduler and streamer. A sender posts signed webhooks at a steady rate, and an app
backend publishes events through ``POST /publish`` beside them; both retry anything
not answered 2xx (honouring Retry-After), as real senders do. A third of the
way in, ``SENTINEL FAILOVER`` promotes the replica. The promise: every delivery
and every publish answered 2xx reaches the event log of the surviving primary
exactly once, and the ingress takes writes again within 5 s of the failover.
The CLI works on the same URL afterwards.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from common.redis import connect
from tests.integration.conftest import STREAM_KEY, System, config_text, run_system
from tests.integration.sentinel_support import SentinelCluster
from tests.sse_client import SseReader

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

DELIVERIES = 800  # 20 s: the old primary rejoins as a replica ~10 s after the failover
RATE_PER_S = 40.0
SENDERS = 16  # connections
FAILOVER_AFTER = 150  # deliveries answered 2xx before the failover
PUBLISH_EVERY = 4  # one POST /publish beside every 4th webhook
RESUME_WITHIN_S = 5.0
SETTLE_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class Attempt:
    delivery_id: str
    sent_at: float
    status: int  # 0: no HTTP answer


@dataclass
class Burst:
    """What the sender saw."""

    attempts: list[Attempt] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)

    def record(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        if 200 <= attempt.status < 300:
            self.accepted.add(attempt.delivery_id)


class Sender:
    """Posts one delivery until it is answered 2xx; waits Retry-After between tries."""

    def __init__(self, client: httpx.AsyncClient, system: System, secret: str,
                 burst: Burst) -> None:
        self._client = client
        self._url = f"{system.ingress_url}/webhooks/demo"
        self._publish_url = f"{system.ingress_url}/publish"
        self._webhook = Webhook(secret)
        self._burst = burst

    async def deliver(self, delivery_id: str) -> None:
        body = json.dumps({"type": "order.paid", "n": delivery_id}).encode()
        while True:
            sent_at = time.monotonic()
            status, retry_after_s = await self._post(delivery_id, body)
            self._burst.record(Attempt(delivery_id, sent_at, status))
            if 200 <= status < 300:
                return
            await asyncio.sleep(retry_after_s)

    async def publish(self, event_id: str) -> None:
        """``POST /publish`` with an id until answered 2xx (a retry of a write that did
        land is answered as a duplicate, not appended again)."""
        while True:
            sent_at = time.monotonic()
            try:
                response = await self._client.post(
                    self._publish_url, headers={"authorization": "Bearer integration-key"},
                    json={"topic": "webhooks/demo", "type": "published", "data": {},
                          "id": event_id})
                status = response.status_code
                retry_after_s = float(response.headers.get("retry-after", "0.5"))
            except httpx.HTTPError:
                status, retry_after_s = 0, 0.5
            self._burst.record(Attempt(event_id, sent_at, status))
            if 200 <= status < 300:
                return
            await asyncio.sleep(retry_after_s)

    async def _post(self, delivery_id: str, body: bytes) -> tuple[int, float]:
        now = datetime.now(UTC)
        headers = {"webhook-id": delivery_id, "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": self._webhook.sign(delivery_id, now, body.decode()),
                   "content-type": "application/json"}
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError:
            return 0, 0.5
        return response.status_code, float(response.headers.get("retry-after", "0.5"))


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[SentinelCluster]:
    running = SentinelCluster(tmp_path / "redis").start()
    try:
        yield running
    finally:
        running.stop()


def test_a_failover_mid_burst_loses_and_doubles_no_accepted_delivery(
        cluster: SentinelCluster, tmp_path: Path, demo_secret: str) -> None:
    config = config_text(demo_secret).replace("[ingress]\n", "[ingress]\nretry_after_s = 1\n")
    with run_system(tmp_path, cluster.url, config) as system:
        reader = SseReader(f"{system.streamer_url}/events",
                           params={"topic": ["webhooks/demo", "public/witness"]}).wait_connected()
        try:
            burst, failed_over_at, old_primary = _burst_with_failover(system, cluster,
                                                                      demo_secret)
            assert cluster.primary_port() != old_primary, "the failover did not happen"
            ids = [f"msg_{n}" for n in range(DELIVERIES)]
            published = [f"pub_{n}" for n in range(0, DELIVERIES, PUBLISH_EVERY)]
            assert burst.accepted == set(ids) | set(published)
            _assert_writes_resumed(burst, failed_over_at)
            log = _settled_event_log(system, cluster,
                                     {f"demo.{i}" for i in ids} | set(published))
            doubled = {event_id: count for event_id, count in log.items() if count > 1}
            assert not doubled, f"published more than once: {doubled}"
            _assert_streamed(reader, cluster, {f"demo.{i}" for i in ids} | set(published))
            cli = subprocess.run([sys.executable, "-m", "hookstream", "dlq", "list"],
                                 env=system.env, capture_output=True, text=True, timeout=60)
            assert cli.returncode == 0, cli.stderr
            assert "no dead letters" in cli.stdout
        finally:
            reader.close()


def _burst_with_failover(system: System, cluster: SentinelCluster,
                         secret: str) -> tuple[Burst, float, int]:
    old_primary = cluster.primary_port()
    burst, failed_over_at = asyncio.run(_burst(system, cluster, secret))
    return burst, failed_over_at, old_primary


async def _burst(system: System, cluster: SentinelCluster, secret: str) -> tuple[Burst, float]:
    """Deliveries started at a steady rate, each retried on its own until answered 2xx."""
    burst = Burst()
    limits = httpx.Limits(max_connections=SENDERS)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        sender = Sender(client, system, secret, burst)
        tasks = []
        failed_over_at = 0.0
        for n in range(DELIVERIES):
            tasks.append(asyncio.create_task(sender.deliver(f"msg_{n}")))
            if n % PUBLISH_EVERY == 0:
                tasks.append(asyncio.create_task(sender.publish(f"pub_{n}")))
            if not failed_over_at and len(burst.accepted) >= FAILOVER_AFTER:
                failed_over_at = time.monotonic()
                await asyncio.to_thread(cluster.fail_over)
            await asyncio.sleep(1 / RATE_PER_S)
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    assert failed_over_at, "the burst ended before the failover"
    return burst, failed_over_at


def _assert_writes_resumed(burst: Burst, failed_over_at: float) -> None:
    refused = [a for a in burst.attempts if not 200 <= a.status < 300]
    late = [a for a in refused if a.sent_at >= failed_over_at + RESUME_WITHIN_S]
    outage_s = max((a.sent_at for a in refused), default=failed_over_at) - failed_over_at
    print(f"refused {len(refused)} of {len(burst.attempts)} attempts; "
          f"last refusal {outage_s:.2f} s after the failover")
    assert not late, f"writes refused {RESUME_WITHIN_S} s after the failover: {late[:5]}"


def _settled_event_log(system: System, cluster: SentinelCluster,
                       expected: set[str]) -> Counter[str]:
    """Event ids in the log of the current primary, once every expected one is there and a
    witness published after them has landed (nothing still in flight)."""
    client = connect(cluster.url)
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    logged: Counter[str] = Counter()
    while time.monotonic() < deadline:
        logged = _logged_ids(client)
        if expected <= set(logged):
            break
        time.sleep(0.2)
    missing = expected - set(logged)
    assert not missing, f"{len(missing)} accepted deliveries unpublished: {sorted(missing)[:10]}"
    response = httpx.post(f"{system.ingress_url}/publish",
                          headers={"authorization": "Bearer integration-key"},
                          json={"topic": "public/witness", "type": "witness", "data": {},
                                "id": "witness"})
    assert response.status_code == 202, response.text
    while "witness" not in logged and time.monotonic() < deadline:
        time.sleep(0.1)
        logged = _logged_ids(client)
    return logged


def _logged_ids(client) -> Counter[str]:  # type: ignore[no-untyped-def]
    entries = client.xrange(STREAM_KEY)
    return Counter(json.loads(fields[b"e"])["id"] for _position, fields in entries)


def _assert_streamed(reader: SseReader, cluster: SentinelCluster, expected: set[str]) -> None:
    """Every expected event reached the SSE client, but for the known gap (docs/ingress.md):
    an event the new primary took before the streamer switched to it, at a position below
    the last one the streamer had sent from the old primary's doomed tail."""
    streamed = _streamed_positions(reader)
    logged = {json.loads(fields[b"e"])["id"]: position.decode()
              for position, fields in connect(cluster.url).xrange(STREAM_KEY)}
    doomed = [position for event_id, position in streamed.items()
              if logged.get(event_id) != position]
    missed = expected - streamed.keys()
    behind = {event_id for event_id in missed
              if doomed and _before(logged[event_id], max(doomed, key=_order))}
    print(f"streamed {len(streamed)}; sent from the old primary's lost tail {len(doomed)}; "
          f"missed behind it {len(behind)}")
    assert not missed - behind, f"the streamer missed {sorted(missed - behind)}"


def _order(position: str) -> tuple[int, int]:
    ms, seq = position.split("-")
    return int(ms), int(seq)


def _before(position: str, other: str) -> bool:
    return _order(position) < _order(other)


def _streamed_positions(reader: SseReader) -> dict[str, str]:
    """Every event id the SSE client received, with its position, up to the witness."""
    seen: dict[str, str] = {}
    while "witness" not in seen:
        event = reader.next_event(timeout_s=30)
        seen.setdefault(json.loads(event.data)["id"], event.id or "")
    return seen

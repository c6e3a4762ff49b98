"""The atomic admission script against a real Valkey: dramatiq's format, dedupe, rate limit."""

import asyncio
import socket

import pytest
from dramatiq.brokers.redis import RedisBroker

from api.intake import RedisIntake
from api.queue import Delivery, Outcome, Policy, QueueUnavailable
from common.keys import stats_key
from hookstream.embedded import free_port

pytestmark = pytest.mark.anyio
WINDOW = Policy(dedupe_window_s=60)


def delivery(n: int = 1, source: str = "shop") -> Delivery:
    body = '{"type":"t","n":' + str(n) + "}"
    return Delivery(source, f"msg_{n}", f"{source}.msg_{n}", body, 1_000 + n)


@pytest.fixture
def intake(redis_url):
    return RedisIntake(redis_url, namespace="hookstream", queue="deliveries", timeout_s=5)


async def test_a_new_delivery_is_a_dramatiq_job_with_a_wake_token(intake, redis_client):
    admission = await intake.admit(delivery(), WINDOW)
    assert admission.outcome is Outcome.ACCEPTED
    assert redis_client.llen("hookstream:deliveries.wake") == 1
    broker = RedisBroker(client=redis_client, namespace="hookstream")
    broker.declare_queue("deliveries")
    consumer = broker.consume("deliveries", prefetch=1, timeout=1000)
    message = next(consumer)
    assert message.actor_name == "process_delivery"
    assert message.args == ("shop", "shop.msg_1", '{"type":"t","n":1}', 1001)
    consumer.ack(message)
    consumer.close()
    broker.close()


async def test_a_repeat_is_a_duplicate_and_enqueues_nothing(intake, redis_client):
    assert (await intake.admit(delivery(), WINDOW)).outcome is Outcome.ACCEPTED
    assert (await intake.admit(delivery(), WINDOW)).outcome is Outcome.DUPLICATE
    assert redis_client.hlen("hookstream:deliveries.msgs") == 1
    assert redis_client.llen("hookstream:deliveries") == 1
    counts = redis_client.hgetall(stats_key("hookstream", "shop"))
    assert counts == {b"received": b"2", b"accepted": b"1", b"duplicates": b"1"}


async def test_the_same_id_from_another_source_is_not_a_duplicate(intake):
    assert (await intake.admit(delivery(source="a"), WINDOW)).outcome is Outcome.ACCEPTED
    assert (await intake.admit(delivery(source="b"), WINDOW)).outcome is Outcome.ACCEPTED


async def test_the_id_is_remembered_for_the_window_only(intake, redis_client):
    await intake.admit(delivery(), Policy(dedupe_window_s=30))
    ttl = redis_client.ttl("hookstream:ingress:seen:shop:msg_1")
    assert 0 < ttl <= 30


async def test_a_sliding_second_never_passes_more_than_the_limit(intake, redis_client):
    policy = Policy(dedupe_window_s=60, rate_limit_per_s=3)
    outcomes = [(await intake.admit(delivery(n), policy)) for n in range(5)]
    assert [a.outcome for a in outcomes] == [Outcome.ACCEPTED] * 3 + [Outcome.RATE_LIMITED] * 2
    assert 0 < outcomes[3].retry_after_ms <= 1000
    assert redis_client.hlen("hookstream:deliveries.msgs") == 3
    assert (await intake.admit(delivery(0), policy)).outcome is Outcome.DUPLICATE
    await asyncio.sleep(outcomes[4].retry_after_ms / 1000 + 0.05)
    assert (await intake.admit(delivery(9), policy)).outcome is Outcome.ACCEPTED


async def test_a_flushed_script_cache_is_reloaded(intake, redis_client):
    await intake.admit(delivery(1), WINDOW)
    redis_client.script_flush()
    assert (await intake.admit(delivery(2), WINDOW)).outcome is Outcome.ACCEPTED


async def test_unreachable_redis_is_queue_unavailable():
    intake = RedisIntake(f"redis://127.0.0.1:{free_port()}/0", namespace="hookstream",
                         queue="deliveries", timeout_s=1)
    with pytest.raises(QueueUnavailable):
        await intake.admit(delivery(), WINDOW)


async def test_a_server_that_never_answers_is_queue_unavailable_within_the_deadline():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    port = silent.getsockname()[1]
    intake = RedisIntake(f"redis://127.0.0.1:{port}/0", namespace="hookstream",
                         queue="deliveries", timeout_s=0.3)
    try:
        with pytest.raises(QueueUnavailable, match="TimeoutError"):
            await asyncio.wait_for(intake.admit(delivery(), WINDOW), 5)
    finally:
        silent.close()


async def test_every_key_is_under_the_configured_namespace(redis_url, redis_client):
    intake = RedisIntake(redis_url, namespace="tenant", queue="deliveries", timeout_s=5)
    limited = Policy(dedupe_window_s=60, rate_limit_per_s=5)
    assert (await intake.admit(delivery(), limited)).outcome is Outcome.ACCEPTED
    names = sorted(key.decode() for key in redis_client.keys("*"))
    assert names == ["tenant:deliveries", "tenant:deliveries.msgs", "tenant:deliveries.wake",
                     "tenant:ingress:rate:shop", "tenant:ingress:seen:shop:msg_1",
                     "tenant:ingress:stats:shop"]

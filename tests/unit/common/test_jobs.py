"""Jobs are byte for byte what dramatiq's own Message.encode() writes, and dramatiq reads them."""

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

from common.jobs import JobSender, encode_job

BODIES = [
    '{"type":"order.paid","n":1}',
    '{"name":"Zoë","emoji":"\\ud83d\\ude00","ctl":"\\u0001\\n\\t","slash":"a/b"}',
    '{"raw":"Zoë 😀 — ünïcode"}',
    '{"quote":"\\"x\\"","backslash":"\\\\"}',
]


def expected_bytes(job, queue, actor, args, kwargs):
    decoded = dramatiq.Message.decode(job.data)
    return dramatiq.Message(
        queue_name=queue, actor_name=actor, args=tuple(args), kwargs=kwargs,
        options={"redis_message_id": job.redis_message_id}, message_id=decoded.message_id,
        message_timestamp=decoded.message_timestamp).encode()


@pytest.mark.parametrize("body", BODIES, ids=["ascii", "escaped-json", "raw-unicode", "quotes"])
def test_job_bytes_equal_dramatiq_message_encode(body):
    args = ("shop", "shop.msg_1", body, 1_700_000_000_000)
    job = encode_job("deliveries", "process_delivery", args)
    assert job.data == expected_bytes(job, "deliveries", "process_delivery", args, {})
    decoded = dramatiq.Message.decode(job.data)
    assert decoded.args == args
    assert decoded.options["redis_message_id"] == job.redis_message_id == decoded.message_id


@pytest.mark.parametrize(("args", "kwargs"), [
    ((), {}),
    ((1.5, 1e16, True, None, -(2**70)), {}),
    ((["a", {"b": 1}],), {"when": 2.5, "who": "Zoë"}),
    (("x",), {"naïve": 1, "n": 2}),
], ids=["empty", "floats-and-big-ints", "nested", "non-ascii-name"])
def test_any_arguments_encode_as_dramatiq_does(args, kwargs):
    job = encode_job("periodic", "some_actor", args, kwargs)
    assert job.data == expected_bytes(job, "periodic", "some_actor", args, kwargs)


def test_a_given_message_id_is_kept():
    job = encode_job("q", "a", (), message_id="fixed-id")
    decoded = dramatiq.Message.decode(job.data)
    assert job.redis_message_id == decoded.message_id == "fixed-id"


def test_a_sent_job_is_queued_with_a_wake_token_and_dramatiq_consumes_it(redis_client):
    message_id = JobSender(redis_client, namespace="hookstream").send(
        "periodic", "trim_event_log", [], {"limit": 3})
    assert redis_client.lrange("hookstream:periodic", 0, -1) == [message_id.encode()]
    assert redis_client.llen("hookstream:periodic.wake") == 1
    broker = RedisBroker(client=redis_client, namespace="hookstream")
    broker.declare_queue("periodic")
    consumer = broker.consume("periodic", prefetch=1, timeout=1000)
    message = next(consumer)
    assert (message.actor_name, message.args) == ("trim_event_log", ())
    assert message.kwargs == {"limit": 3}
    assert message.message_id == message_id
    consumer.ack(message)
    consumer.close()
    broker.close()

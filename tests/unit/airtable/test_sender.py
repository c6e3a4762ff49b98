"""The broker-free sender writes what dramatiq's RedisBroker writes, and dramatiq reads it."""

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from domains.airtable.sender import RedisJobSender, encode_message


def test_message_bytes_equal_dramatiq_encode() -> None:
    message_id, data = encode_message("default", "airtable_write", ["job1"])
    decoded = dramatiq.Message.decode(data)
    assert decoded.message_id == message_id
    assert decoded.options == {"redis_message_id": message_id}
    assert data == decoded.encode()
    assert decoded.args == ("job1",)


def test_a_sent_job_is_consumed_by_dramatiq(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    message_id = RedisJobSender(client, namespace="hookstream").send(
        "default", "airtable_write", ["job1"])
    assert client.llen("hookstream:default.wake") == 1
    broker = RedisBroker(url=redis_url, namespace="hookstream")
    broker.declare_queue("default")
    consumer = broker.consume("default", timeout=1000)
    message = next(iter(consumer))
    assert message is not None and message.message_id == message_id
    assert message.args == ("job1",)
    consumer.ack(message)
    consumer.close()
    broker.close()

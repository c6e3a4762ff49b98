"""WakeupConsumer's loop against the in-memory `MemoryConsumerBroker` (the Protocol is enough)."""

from collections import deque

from dramatiq.message import Message

from workers.brokers.redis.consumer import MemoryConsumerBroker, WakeupConsumer


def encoded(n, queue="q"):
    message = Message(queue_name=queue, actor_name="noop", args=(n,), kwargs={},
                      options={"redis_message_id": f"r{n}"})
    return message.encode()


def test_fetches_up_to_the_prefetch_limit_then_waits_for_room():
    broker = MemoryConsumerBroker(queues={"q": deque(encoded(n) for n in range(5))})
    consumer = WakeupConsumer(broker, "q", prefetch=2)
    first, second = next(consumer), next(consumer)
    assert (first.args, second.args) == ((0,), (1,))
    assert next(consumer) is None  # no room: waited on the local condition, not on Redis
    assert broker.blocks == []
    consumer.ack(first)
    assert broker.acked == [("q", "r0")]
    assert next(consumer).args == (2,)


def test_an_empty_queue_blocks_on_the_wake_keys():
    broker = MemoryConsumerBroker()
    consumer = WakeupConsumer(broker, "q", prefetch=4)
    assert next(consumer) is None
    assert broker.blocks == [(["q.wake"], broker.wake_timeout_s)]


def test_nack_dead_letters_and_close_gives_back_what_was_never_handed_out():
    broker = MemoryConsumerBroker(queues={"q.DQ": deque(encoded(n, "q.DQ") for n in range(3))})
    consumer = WakeupConsumer(broker, "q.DQ", prefetch=3)
    message = next(consumer)
    consumer.nack(message)
    assert broker.dead == [("q.DQ", "r0")]
    consumer.close()
    assert broker.requeued == [("q.DQ", ["r1", "r2"])]

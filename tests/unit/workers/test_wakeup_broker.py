"""WakeupBroker and WakeupConsumer against a real Valkey: the wake-up contract end to end."""

import threading

import dramatiq
from dramatiq.message import Message

from common.queueing import WAKE_MAX_TOKENS

NS = "hookstream"


def message_on(queue, **options):
    return Message(queue_name=queue, actor_name="noop", args=(), kwargs={}, options=options)


def next_message(consumer, *, attempts=50):
    for _ in range(attempts):
        message = next(consumer)
        if message is not None:
            return message
    raise AssertionError("no message")


def wait_until_blocked(redis_client, *, clients=1):
    for _ in range(500):
        if redis_client.info("clients")["blocked_clients"] >= clients:
            return
        threading.Event().wait(0.01)
    raise AssertionError("the consumer never blocked on Redis")


def in_thread(fn):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", fn()), daemon=True)
    thread.start()
    return thread, result


def test_enqueue_writes_dramatiq_format_and_a_capped_wake_token(make_broker, redis_client):
    broker = make_broker()
    broker.declare_queue("q")
    sent = broker.enqueue(message_on("q"))
    redis_id = sent.options["redis_message_id"]
    assert redis_client.lrange(f"{NS}:q", 0, -1) == [redis_id.encode()]
    assert Message.decode(redis_client.hget(f"{NS}:q.msgs", redis_id)).message_id == sent.message_id
    assert redis_client.lrange(f"{NS}:q.wake", 0, -1) == [b"1"]
    for _ in range(WAKE_MAX_TOKENS + 5):
        broker.enqueue(message_on("q"))
    assert redis_client.llen(f"{NS}:q.wake") == WAKE_MAX_TOKENS


def test_idle_consumer_blocked_on_the_wake_list_wakes_on_enqueue(make_broker, redis_client):
    broker = make_broker(wake_timeout_s=120)
    broker.declare_queue("q")
    consumer = broker.consume("q", prefetch=4)
    thread, result = in_thread(lambda: next(consumer))
    wait_until_blocked(redis_client)
    sent = broker.enqueue(message_on("q"))
    thread.join(timeout=20)
    assert not thread.is_alive(), "the enqueue did not wake the blocked consumer"
    received = result["value"] or next_message(consumer)
    assert received.message_id == sent.message_id


def test_a_message_without_a_wake_token_is_still_fetched(make_broker, redis_client):
    broker = make_broker(wake_timeout_s=0.2)
    broker.declare_queue("q")
    consumer = broker.consume("q", prefetch=4)
    message = message_on("q", redis_message_id="raw-1")
    redis_client.hset(f"{NS}:q.msgs", "raw-1", message.encode())
    redis_client.rpush(f"{NS}:q", "raw-1")  # a producer that ignores the contract
    assert next_message(consumer).message_id == message.message_id


def test_fetch_that_empties_the_queue_drops_stale_tokens(make_broker, redis_client):
    broker = make_broker()
    broker.declare_queue("q")
    for _ in range(3):
        broker.enqueue(message_on("q"))
    assert len(broker.fetch("q", 2)) == 2
    assert redis_client.llen(f"{NS}:q.wake") == 3
    assert len(broker.fetch("q", 2)) == 1
    assert redis_client.exists(f"{NS}:q.wake") == 0


def test_requeue_puts_messages_back_at_the_head_with_tokens(make_broker, redis_client):
    broker = make_broker()
    broker.declare_queue("q")
    first, second = broker.enqueue(message_on("q")), broker.enqueue(message_on("q"))
    third = broker.enqueue(message_on("q"))
    consumer = broker.consume("q", prefetch=2)
    taken = [next_message(consumer), next_message(consumer)]
    consumer.requeue(taken)
    ids = [first.options["redis_message_id"], second.options["redis_message_id"],
           third.options["redis_message_id"]]
    assert [value.decode() for value in redis_client.lrange(f"{NS}:q", 0, -1)] == ids
    assert redis_client.llen(f"{NS}:q.wake") == 3 + 2  # one per enqueue, one per requeue
    assert redis_client.scard(f"{NS}:__acks__.{broker.broker_id}.q") == 0


def test_nack_dead_letters_with_the_failure_recorded(make_broker, redis_client):
    broker = make_broker()
    broker.declare_queue("q")
    broker.enqueue(message_on("q"))
    consumer = broker.consume("q", prefetch=1)
    received = next_message(consumer)
    received.options["dead_letter"] = {"error": "Permanent: boom"}
    consumer.nack(received)
    redis_id = received.options["redis_message_id"]
    assert redis_client.zscore(f"{NS}:q.XQ", redis_id) is not None
    stored = Message.decode(redis_client.hget(f"{NS}:q.XQ.msgs", redis_id))
    assert stored.options["dead_letter"] == {"error": "Permanent: boom"}
    assert redis_client.hlen(f"{NS}:q.msgs") == 0


def test_drain_interrupts_a_blocked_consumer(make_broker, redis_client):
    broker = make_broker(wake_timeout_s=120)
    broker.declare_queue("q")
    consumer = broker.consume("q", prefetch=1)
    thread, _ = in_thread(lambda: next(consumer))
    wait_until_blocked(redis_client)
    broker.drain()
    thread.join(timeout=20)
    assert not thread.is_alive(), "drain did not interrupt the blocking wait"
    assert broker.draining


def test_delay_queue_consumer_wakes_when_its_earliest_eta_is_due(make_broker):
    broker = make_broker(wake_timeout_s=120)

    @dramatiq.actor(broker=broker, queue_name="q")
    def later():
        pass

    later.send_with_options(delay=200)
    consumer = broker.consume("q.DQ", prefetch=10)
    delayed = next_message(consumer)
    assert "eta" in delayed.options
    thread, _ = in_thread(lambda: next(consumer))
    thread.join(timeout=20)
    assert not thread.is_alive(), "the consumer slept past the eta of the message it holds"


def test_consuming_process_heartbeats_while_idle(make_broker, redis_client):
    broker = make_broker(heartbeat_interval_s=0.05, heartbeat_timeout_s=1)
    broker.declare_queue("q")
    broker.consume("q")
    key = f"{NS}:__heartbeats__"
    first = None
    for _ in range(200):
        score = redis_client.zscore(key, broker.broker_id)
        first = first or score
        if first and score and score > first:
            return
        threading.Event().wait(0.02)
    raise AssertionError("no heartbeat")


def test_drain_also_wakes_a_consumer_waiting_for_room(make_broker):
    broker = make_broker(wake_timeout_s=120)
    broker.declare_queue("q")
    broker.enqueue(message_on("q"))
    consumer = broker.consume("q", prefetch=1)
    next_message(consumer)  # the only slot is taken and never acked
    thread, _ = in_thread(lambda: next(consumer))
    broker.drain()
    thread.join(timeout=20)
    assert not thread.is_alive(), "drain did not interrupt the wait for room"

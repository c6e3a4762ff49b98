"""Retries per failure kind with a real broker and worker, and the dead-letter store."""

import time

import dramatiq
import pytest
from dramatiq.message import Message

from hookstream.dlq import describe, redact
from workers.deadletters import DeadLetters
from workers.errors import DeadLetterNotFound, Permanent, RateLimited, Transient, classified
from workers.policies import actor_options

NS = "hookstream"


def run_until(worker_broker, condition, *, timeout_s=20):
    worker = dramatiq.Worker(worker_broker, worker_threads=2)
    worker.start()
    try:
        deadline = time.monotonic() + timeout_s
        while not condition():
            assert time.monotonic() < deadline, "condition never held"
            time.sleep(0.02)
    finally:
        worker.stop()


def declare(broker, settings, fn):
    options = actor_options(settings.workers, fn.__name__)
    return dramatiq.actor(classified(fn), broker=broker, queue_name="q", **options)


def test_transient_failures_are_retried_then_succeed(make_broker, worker_settings):
    settings = worker_settings(min_backoff_s=0.01, max_backoff_s=0.05)
    broker = make_broker(wake_timeout_s=1)
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionRefusedError("not yet")

    declare(broker, settings, flaky).send()
    run_until(broker, lambda: len(attempts) == 3)


def test_retries_are_bounded_then_dead_lettered(make_broker, worker_settings, redis_client):
    settings = worker_settings(min_backoff_s=0.01, max_backoff_s=0.02, max_retries=2)
    broker = make_broker(wake_timeout_s=1)
    attempts = []

    def always_down():
        attempts.append(1)
        raise Transient("still down")

    declare(broker, settings, always_down).send()
    run_until(broker, lambda: redis_client.zcard(f"{NS}:q.XQ") == 1)
    assert len(attempts) == 3
    [letter] = DeadLetters(redis_client, NS, ["q"]).entries()
    assert letter.attempts == 3 and "Transient: still down" in letter.error


def test_permanent_failures_skip_retries(make_broker, worker_settings, redis_client):
    settings = worker_settings()
    broker = make_broker(wake_timeout_s=1)
    attempts = []

    def invalid():
        attempts.append(1)
        raise Permanent("bad input")

    declare(broker, settings, invalid).send()
    run_until(broker, lambda: redis_client.zcard(f"{NS}:q.XQ") == 1)
    assert attempts == [1]
    [letter] = DeadLetters(redis_client, NS, ["q"]).entries()
    assert letter.attempts == 1 and letter.error == "Permanent: bad input"


def test_rate_limited_retries_after_the_given_wait(make_broker, worker_settings, redis_client):
    settings = worker_settings()
    broker = make_broker(wake_timeout_s=1)

    def limited():
        raise RateLimited("429", retry_after_s=30)

    declare(broker, settings, limited).send()
    started_ms = time.time() * 1000
    run_until(broker, lambda: redis_client.hlen(f"{NS}:q.DQ.msgs") == 1)
    [data] = redis_client.hvals(f"{NS}:q.DQ.msgs")
    delayed = Message.decode(data)
    assert delayed.options["eta"] >= started_ms + 30_000


def dead_letter(client, queue, letter_id, **options):
    message = Message(queue_name=queue, actor_name="process_delivery",
                      args=("demo", "demo.e1", '{"type":"x","api_key":"k-123"}', 1),
                      kwargs={}, options={"redis_message_id": letter_id, "retries": 3,
                                          **options})
    client.zadd(f"{NS}:{queue}.XQ", {letter_id: 1_700_000_000_000})
    client.hset(f"{NS}:{queue}.XQ.msgs", letter_id, message.encode())
    return message


def test_replay_puts_a_dead_letter_back_once_with_a_token(redis_client):
    original = dead_letter(redis_client, "q", "aaaaaaaa-1", traceback="boom")
    store = DeadLetters(redis_client, NS, ["q"])
    letter = store.find("aaaaaaaa")
    assert store.replay(letter) is True
    assert store.replay(letter) is False
    assert store.entries() == []
    [new_id] = redis_client.lrange(f"{NS}:q", 0, -1)
    replayed = Message.decode(redis_client.hget(f"{NS}:q.msgs", new_id))
    assert replayed.message_id == original.message_id and replayed.args == original.args
    assert "retries" not in replayed.options and "traceback" not in replayed.options
    assert redis_client.llen(f"{NS}:q.wake") == 1


def test_find_needs_a_unique_prefix_and_purge_deletes(redis_client):
    dead_letter(redis_client, "q", "bbbbbbbb-1")
    dead_letter(redis_client, "q", "bbbbbbbb-2")
    store = DeadLetters(redis_client, NS, ["q"])
    with pytest.raises(DeadLetterNotFound, match="2 dead letters"):
        store.find("bbbbbbbb")
    with pytest.raises(DeadLetterNotFound, match="at least"):
        store.find("bb")
    assert store.purge(store.find("bbbbbbbb-2")) is True
    assert [letter.id for letter in store.entries()] == ["bbbbbbbb-1"]
    assert store.count("q") == 1


def test_show_masks_secrets_in_bodies_and_urls(redis_client):
    dead_letter(redis_client, "q", "cccccccc-1",
                dead_letter={"error": "Transient: redis://:hunter2@db:6379 down"})
    shown = describe(DeadLetters(redis_client, NS, ["q"]).find("cccccccc"))
    assert "k-123" not in shown and "hunter2" not in shown
    assert '"api_key": "**********"' in shown
    assert redact({"Authorization": "Bearer x", "n": [1]}) == {"Authorization": "**********",
                                                              "n": [1]}

"""Worker-tier metrics are read from Redis at scrape time."""

from prometheus_client import CollectorRegistry, generate_latest

from workers.deadletters import DeadLetters
from workers.metrics import WorkerCollector


def test_dead_letters_and_queue_depth_per_queue(redis_client):
    redis_client.zadd("hookstream:deliveries.XQ", {"a": 1, "b": 2})
    redis_client.rpush("hookstream:periodic", "x")
    queues = ["deliveries", "periodic"]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WorkerCollector(redis_client, DeadLetters(redis_client, "hookstream", queues),
                                      "hookstream", queues, restarts=lambda: 3))
    text = generate_latest(registry).decode()
    assert 'hookstream_dead_letters{queue="deliveries"} 2.0' in text
    assert 'hookstream_dead_letters{queue="periodic"} 0.0' in text
    assert 'hookstream_queue_messages{queue="periodic"} 1.0' in text
    assert "hookstream_worker_restarts_total 3.0" in text

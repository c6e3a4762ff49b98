"""A real hookstream broker on the session's Valkey, with actors declared per test."""

from __future__ import annotations

import pytest
from dramatiq.middleware import Retries

from workers.brokers.redis import build_broker
from workers.deadletters import DeadLetterReasons


@pytest.fixture
def worker_settings(make_settings, redis_url):
    def build(**workers):
        return make_settings(redis_url=redis_url, workers=workers)

    return build


@pytest.fixture
def make_broker(worker_settings):
    brokers = []

    def build(**workers):
        broker = build_broker(worker_settings(**workers))
        broker.add_middleware(DeadLetterReasons(), before=Retries)
        brokers.append(broker)
        return broker

    yield build
    for broker in brokers:
        broker.close()

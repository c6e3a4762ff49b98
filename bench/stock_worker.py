"""Bench worker module for stock dramatiq: its RedisBroker as shipped."""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from bench.worker_actors import declare

broker = RedisBroker(url=os.environ["BENCH_REDIS_URL"], namespace="hookstream")
dramatiq.set_broker(broker)
actors = declare(broker, periodic=True)

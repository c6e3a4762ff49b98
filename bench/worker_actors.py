"""Bench actors, declared on whichever broker a bench worker module installs.

Both bench worker modules (stock dramatiq, hookstream) declare the same actors
on the same queue names, so the driver can send to either.
"""

from __future__ import annotations

import os
import time
from functools import cache
from typing import Any

import dramatiq
import redis

from common.redis import connect

HOLD_S = 60


@cache
def client() -> redis.Redis:
    return connect(os.environ["BENCH_REDIS_URL"], health_check_interval_s=0)


def declare(broker: Any, *, periodic: bool) -> dict[str, Any]:
    @dramatiq.actor(broker=broker, queue_name="deliveries", max_retries=0)
    def bench_pickup(sent_ns: int) -> None:
        client().rpush("bench:pickups", f"{sent_ns}:{time.time_ns()}")

    @dramatiq.actor(broker=broker, queue_name="deliveries", max_retries=0)
    def bench_noop() -> None:
        pass

    @dramatiq.actor(broker=broker, queue_name="deliveries", max_retries=3)
    def bench_hold(token: str) -> None:
        runs = client().rpush(f"bench:runs:{token}", f"{os.getpid()}:{time.time_ns()}")
        if runs == 1:
            time.sleep(HOLD_S)

    actors = {"pickup": bench_pickup, "noop": bench_noop, "hold": bench_hold}
    if periodic:  # the stock side gets a second queue too, like hookstream's "periodic"
        @dramatiq.actor(broker=broker, queue_name="periodic", max_retries=0)
        def bench_tick() -> None:
            pass
    return actors

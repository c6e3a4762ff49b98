"""hookstream's dramatiq broker on Redis: the one place application code imports it from.

- `broker`: `WakeupBroker` (dramatiq's RedisBroker with wake-ups instead of
  polling) and `build_broker`, the broker every worker process uses;
- `consumer`: `WakeupConsumer` and `ConsumerBroker`, what it needs of the broker;
- `scripts`: the Lua the broker, the janitor and dead-letter replay run;
- `heartbeat`: one liveness thread per worker process;
- `janitor`: requeues a dead worker's messages (run by the scheduler);
(Key names are in `common.keys`.)

Nothing in here imports the application (actors, policies, the scheduler...).
"""

from __future__ import annotations

from workers.brokers.redis.broker import Drain, WakeupBroker, build_broker
from workers.brokers.redis.janitor import Janitor, Sweep
from workers.brokers.redis.scripts import REPLAY

__all__ = [
    "REPLAY",
    "Drain",
    "Janitor",
    "Sweep",
    "WakeupBroker",
    "build_broker",
]

"""The composition root of a worker process, and dramatiq's broker: hookstream's one global.

Importing this module reads the settings from the environment, configures
logging for the process and installs hookstream's Redis broker
(`workers.brokers.redis.WakeupBroker`) with the middleware that carries each
process's dependencies (`workers.context`); every actor module imports it first.
"""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import Retries

from common.logs import configure_logging
from common.settings import load_settings
from workers.brokers.redis import build_broker
from workers.context import ProcessContext, WorkerContext
from workers.deadletters import DeadLetterReasons
from workers.failover import FailoverRecovery
from workers.telemetry import WorkerTelemetry

settings = load_settings()
configure_logging(settings, process="worker")
broker = build_broker(settings)
# dramatiq runs after-hooks last-added first: before Retries = after it has failed the message.
broker.add_middleware(DeadLetterReasons(), before=Retries)
broker.add_middleware(ProcessContext(lambda: WorkerContext.connect(settings)))
broker.add_middleware(FailoverRecovery(settings.require_redis_url()))
broker.add_middleware(WorkerTelemetry(settings))
dramatiq.set_broker(broker)


def context() -> WorkerContext:
    """This worker process's dependencies (made on first use, after any fork)."""
    return ProcessContext.of(broker).get()

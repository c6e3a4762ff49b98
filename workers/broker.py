"""The dramatiq broker: the one module-level global in hookstream (dramatiq requires it).

Importing this module reads the settings from the environment, configures
logging for the process and installs the Redis broker; every actor module
imports it first.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from common.logs import configure_logging
from common.redis import connect
from common.settings import Settings, load_settings


def build_broker(settings: Settings, *, socket_timeout_s: float = 10.0) -> RedisBroker:
    client = connect(settings.require_redis_url(), socket_timeout_s=socket_timeout_s)
    return RedisBroker(client=client, namespace=settings.workers.namespace)  # type: ignore[no-untyped-call]


settings = load_settings()
configure_logging(settings, process="worker")
broker = build_broker(settings)
dramatiq.set_broker(broker)

"""The dramatiq broker: the one module-level global in hookstream (dramatiq requires it).

Importing this module reads the settings from the environment, configures
logging for the process and installs hookstream's Redis broker
(`workers.wakeup.WakeupBroker`); every actor module imports it first.
"""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import Retries

from common.logs import configure_logging
from common.settings import load_settings
from workers.deadletters import DeadLetterReasons
from workers.failover import FailoverRecovery
from workers.wakeup import build_broker

settings = load_settings()
configure_logging(settings, process="worker")
broker = build_broker(settings)
# dramatiq runs after-hooks last-added first: before Retries = after it has failed the message.
broker.add_middleware(DeadLetterReasons(), before=Retries)
broker.add_middleware(FailoverRecovery(settings.require_redis_url()))
dramatiq.set_broker(broker)

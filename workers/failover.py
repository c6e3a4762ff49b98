"""`FailoverRecovery`: after a Sentinel failover, give back what the old primary took.

Replication is asynchronous, and a forced failover leaves the old primary
writable (and this worker's connections on it) until the sentinels demote it,
~10 s later. A message fetched before the promotion is in this worker's
acknowledgement set on the new primary too, but the ack (and the event
published) after the promotion are lost with the old primary; the worker is
alive, so the janitor would never requeue it. So when the sentinels name a new
primary (the process's `common.sentinel.primary_watch` has then moved every client
there), each worker process puts every message of its acknowledgement sets back
on its queue. One still running here is
then run twice; the event log's dedupe publishes it once.
"""

from __future__ import annotations

from typing import Any

import structlog
from dramatiq import Middleware
from dramatiq.broker import Broker

from common import keys
from common.redis import text
from common.sentinel import primary_watch
from workers.brokers.redis import WakeupBroker

log = structlog.get_logger(__name__)


class FailoverRecovery(Middleware):
    def __init__(self, url: str) -> None:
        self._url = url

    def after_worker_boot(self, broker: Broker, worker: Any) -> None:
        watch = primary_watch(self._url)
        if watch is not None and isinstance(broker, WakeupBroker):
            watch.add_listener(lambda address: recover(broker, address))


def recover(broker: WakeupBroker, address: str) -> None:
    """Requeue this process's unacknowledged messages on the new primary.

    The watch has already dropped every connection to the old one.
    """
    requeued = 0
    for queue in sorted(broker.get_declared_queues()):
        acks = keys.acks_key(broker.namespace, broker.broker_id, queue)
        ids = [text(message_id) for message_id in broker.client.smembers(acks)]
        requeued += broker.requeue_ids(queue, ids) if ids else 0
    log.warning("worker.failover_recovered", primary=address, requeued=requeued)

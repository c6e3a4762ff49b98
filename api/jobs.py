"""The ingress's delivery job: a ``process_delivery`` dramatiq message built without a broker.

The bytes come from `common.jobs.encode_job` (dramatiq's exact encoding, orjson
when it can); the ingress enqueues them in its own admission script (api/intake.py).
"""

from __future__ import annotations

from api.queue import Delivery
from common.jobs import Job, encode_job

ACTOR_NAME = "process_delivery"


def encode_delivery(queue_name: str, delivery: Delivery) -> Job:
    return encode_job(queue_name, ACTOR_NAME, delivery.job_args())

"""Redis key names the streamer reads or writes for the operator dashboard.

Each streamer process reports its figures under ``<ns>:dashboard:streamer:<id>``
(expiring) and its id in the sorted set ``<ns>:dashboard:streamers`` (score:
last report), so the dashboard finds every live process without scanning.

The queue, dead-letter and ingress-counter names below mirror the builders
that own them (``common.queueing``, ``workers.keys``, ``api.keys``), which the
streamer may not import; they fold into ``common/keys.py`` when that lands.
"""

from __future__ import annotations

from dramatiq.common import xq_name

from common.queueing import queue_key

INGRESS_PREFIX = "hookstream:ingress"


def reporters_key(namespace: str) -> str:
    return f"{namespace}:dashboard:streamers"


def report_key(namespace: str, process_id: str) -> str:
    return f"{namespace}:dashboard:streamer:{process_id}"


def queue_depth_key(namespace: str, queue: str) -> str:
    return queue_key(namespace, queue)


def dead_letters_key(namespace: str, queue: str) -> str:
    return f"{namespace}:{xq_name(queue)}"


def webhook_stats_key(source: str) -> str:
    """The ingress's per-source counters (a hash), as ``api.keys.stats_key`` builds it."""
    return f"{INGRESS_PREFIX}:stats:{source}"

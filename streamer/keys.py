"""Redis key names the operator dashboard reads beyond the process reports.

The reports' own keys are `common.reports`'. The dead-letter and
ingress-counter names below mirror the builders that own them
(``workers.keys``, ``api.keys``), which the streamer may not import; they fold
into ``common/keys.py`` when that lands.
"""

from __future__ import annotations

from dramatiq.common import xq_name

from common.queueing import queue_key

INGRESS_PREFIX = "hookstream:ingress"


def queue_depth_key(namespace: str, queue: str) -> str:
    return queue_key(namespace, queue)


def dead_letters_key(namespace: str, queue: str) -> str:
    return f"{namespace}:{xq_name(queue)}"


def webhook_stats_key(source: str) -> str:
    """The ingress's per-source counters (a hash), as ``api.keys.stats_key`` builds it."""
    return f"{INGRESS_PREFIX}:stats:{source}"

"""Test-only: loaded into a worker under test as an extra dramatiq module.

The first time the change sync publishes the 2nd event of a transaction that
creates a record named ``crash-*``, the worker records its pid and sleeps, so
the test can SIGKILL it mid-batch (some events of the transaction published,
the cursor not yet advanced). Production never imports this module.
"""

from __future__ import annotations

import os
import time
from typing import Any

from common.events import Event
from common.publishing import EventLog, Published
from workers.broker import context

PAUSE_S = 120
PAUSED_KEY = "test:airtable:paused"
_original = EventLog.publish
_seen: dict[str, int] = {}


def _crash_batch(event: Event) -> bool:
    fields: Any = event.data.get("fields", {}) if isinstance(event.data, dict) else {}
    return str(fields.get("Name", "")).startswith("crash-")


def _publish(self: EventLog, event: Event) -> Published:
    published = _original(self, event)
    if _crash_batch(event):
        transaction = event.id.rsplit(":", 1)[0]
        _seen[transaction] = _seen.get(transaction, 0) + 1
        if _seen[transaction] == 2 and context().redis.set(PAUSED_KEY, os.getpid(), nx=True):
            time.sleep(PAUSE_S)
    return published


EventLog.publish = _publish  # type: ignore[method-assign]

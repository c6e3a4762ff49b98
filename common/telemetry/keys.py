"""Redis key names of the telemetry reports, all under the configured namespace.

Both share the ``{telemetry}`` hash tag, so one MULTI writes a report and its
index entry in one slot.

- ``<ns>:{telemetry}:reporters``: sorted set, reporter id -> when its report
  expires (ms since the epoch); readers take the ids scored in the future;
- ``<ns>:{telemetry}:report:<id>``: hash, one reporter's last figures, with a TTL.
"""

from __future__ import annotations

TAG = "{telemetry}"


def reporters_key(namespace: str) -> str:
    return f"{namespace}:{TAG}:reporters"


def report_key(namespace: str, reporter_id: str) -> str:
    return f"{namespace}:{TAG}:report:{reporter_id}"

"""What a streamer process reports to the dashboard (`common.telemetry`), read from its hub.

Streams by topic pattern and by token subject are capped at the
``[dashboard] max_labels`` largest, the rest summed under ``(other)``;
streams without a token count under ``(anonymous)``.
"""

from __future__ import annotations

from collections.abc import Iterator

from common.telemetry import Figure, figure
from common.telemetry import figures as names
from common.telemetry.figures import top
from streamer.hub import Hub
from streamer.limits import ConnectionLimits

ANONYMOUS = "(anonymous)"


class HubFigures:
    def __init__(self, hub: Hub, limits: ConnectionLimits, *, max_labels: int) -> None:
        self._hub = hub
        self._limits = limits
        self._max_labels = max_labels

    def figures(self) -> Iterator[Figure]:
        hub, stats = self._hub, self._hub.stats
        yield figure(names.STREAMER_CONNECTIONS, len(hub.subscribers))
        yield figure(names.STREAMER_EVENTS, stats.events)
        yield figure(names.STREAMER_DELIVERIES, stats.deliveries)
        yield figure(names.STREAMER_DROPS, stats.drops)
        for reason, count in list(stats.closes.items()):
            yield figure(names.STREAMER_CLOSES, count, {"reason": reason})
        for topic, count in top(hub.index.counts_by_pattern(), self._max_labels):
            yield figure(names.STREAMER_TOPICS, count, {"topic": topic})
        for subject, count in top(self._subjects(), self._max_labels):
            yield figure(names.STREAMER_SUBJECTS, count, {"subject": subject})

    def _subjects(self) -> dict[str, int]:
        subjects = dict(self._limits.by_subject)
        anonymous = self._limits.total - sum(subjects.values())
        if anonymous > 0:
            subjects[ANONYMOUS] = anonymous
        return subjects

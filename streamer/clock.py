"""Process-wide timekeeping for the hub: token expiries and event rates.

Both are driven by the hub's one timer task; nothing here runs per connection.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterator

from streamer.subscriber import Subscriber

RATE_WINDOW_SAMPLES = 10


class Expiries:
    """A heap of (expires_at_s, subscriber); closed or detached entries are skipped."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Subscriber]] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, subscriber: Subscriber, expires_at_s: float) -> None:
        heapq.heappush(self._heap, (expires_at_s, next(self._order), subscriber))

    def due(self, now_s: float) -> Iterator[Subscriber]:
        while self._heap and self._heap[0][0] <= now_s:
            yield heapq.heappop(self._heap)[2]

    def compact(self, alive: Callable[[Subscriber], bool]) -> None:
        """Forget entries of subscribers that left, once they outnumber the live ones."""
        self._heap = [entry for entry in self._heap if alive(entry[2])]
        heapq.heapify(self._heap)


class Rate:
    """Events per second over the last few timer ticks."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque(maxlen=RATE_WINDOW_SAMPLES)

    def sample(self, now_s: float, total: int) -> None:
        self._samples.append((now_s, total))

    def per_second(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (start_s, first), (end_s, last) = self._samples[0], self._samples[-1]
        return (last - first) / (end_s - start_s) if end_s > start_s else 0.0

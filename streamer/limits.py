"""Connection limits: per process (503) and per token subject (429), with Retry-After."""

from __future__ import annotations

from collections import Counter

from streamer.errors import Rejection


class ConnectionLimits:
    def __init__(self, *, max_total: int, max_per_subject: int, retry_after_s: int) -> None:
        self._max_total = max_total
        self._max_per_subject = max_per_subject
        self._retry_after_s = retry_after_s
        self.total = 0
        self.by_subject: Counter[str] = Counter()

    def acquire(self, subject: str | None) -> None:
        if self.total >= self._max_total:
            raise Rejection(503, "server_full", "this streamer holds its maximum of streams",
                            retry_after_s=self._retry_after_s)
        if subject is not None and self.by_subject[subject] >= self._max_per_subject:
            raise Rejection(429, "too_many_streams",
                            f"at most {self._max_per_subject} streams per subject",
                            retry_after_s=self._retry_after_s)
        self.total += 1
        if subject is not None:
            self.by_subject[subject] += 1

    def release(self, subject: str | None) -> None:
        self.total -= 1
        if subject is not None:
            self.by_subject[subject] -= 1
            if self.by_subject[subject] <= 0:
                del self.by_subject[subject]

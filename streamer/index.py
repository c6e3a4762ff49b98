"""The in-process subscription index: which subscribers want a topic.

A trie over topic segments with ``+`` and ``#`` branches, so matching an event
costs the depth of its topic, not the number of subscriptions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

from common.topics import MULTI, SINGLE, split

S = TypeVar("S", bound=Hashable)


class _Node(Generic[S]):
    __slots__ = ("children", "here")

    def __init__(self) -> None:
        self.children: dict[str, _Node[S]] = {}
        self.here: set[S] = set()


class SubscriptionIndex(Generic[S]):
    def __init__(self) -> None:
        self._root: _Node[S] = _Node()
        self._patterns: Counter[str] = Counter()

    def add(self, subscriber: S, patterns: Iterable[str]) -> None:
        for pattern in patterns:
            node = self._root
            for segment in split(pattern):
                node = node.children.setdefault(segment, _Node())
            node.here.add(subscriber)
            self._patterns[pattern] += 1

    def remove(self, subscriber: S, patterns: Iterable[str]) -> None:
        for pattern in patterns:
            self._remove_one(subscriber, split(pattern))
            self._patterns[pattern] -= 1
            if self._patterns[pattern] <= 0:
                del self._patterns[pattern]

    def match(self, topic: str) -> set[S]:
        found: set[S] = set()
        self._collect(self._root, split(topic), 0, found)
        return found

    def counts_by_pattern(self) -> dict[str, int]:
        return dict(self._patterns)

    def _collect(self, node: _Node[S], segments: list[str], depth: int, found: set[S]) -> None:
        multi = node.children.get(MULTI)
        if multi is not None:
            found |= multi.here
        if depth == len(segments):
            found |= node.here
            return
        for key in (segments[depth], SINGLE):
            child = node.children.get(key)
            if child is not None:
                self._collect(child, segments, depth + 1, found)

    def _remove_one(self, subscriber: S, segments: list[str]) -> None:
        path = [self._root]
        for segment in segments:
            child = path[-1].children.get(segment)
            if child is None:
                return
            path.append(child)
        path[-1].here.discard(subscriber)
        for depth in range(len(segments), 0, -1):
            node = path[depth]
            if node.here or node.children:
                break
            del path[depth - 1].children[segments[depth - 1]]

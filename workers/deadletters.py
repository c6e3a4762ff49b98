"""Dead letters: messages that failed for good, kept in dramatiq's ``XQ`` keys, and replayable.

dramatiq keeps them per queue in a sorted set ``<ns>:<queue>.XQ`` (id -> when
it died, ms) and a hash ``<ns>:<queue>.XQ.msgs`` (id -> encoded message). The
janitor drops them after ``dead_letter_ttl_s``. `DeadLetters` lists, shows,
replays (back on the queue, with a wake token, atomically, once) and purges
them; `DeadLetterReasons` records why a message died in its options.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis
from dramatiq import Middleware
from dramatiq.broker import Broker, MessageProxy
from dramatiq.message import Message, generate_unique_id

from common.keys import (
    dead_letter_messages_key,
    dead_letters_key,
    messages_key,
    queue_key,
    wake_key,
)
from common.queueing import WAKE_MAX_TOKENS
from workers.brokers.redis import REPLAY
from workers.errors import DeadLetterNotFound

MIN_PREFIX = 6
REASON_CHARS = 500
TRACEBACK_LINES = 20
RETRY_OPTIONS = ("retries", "traceback", "requeue_timestamp", "dead_letter", "eta")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    queue: str
    dead_at_ms: int
    message: Message[Any]

    @property
    def error(self) -> str:
        reason = self.message.options.get("dead_letter") or {}
        return str(reason.get("error", "")) or _last_line(self.message.options.get("traceback"))

    @property
    def attempts(self) -> int:
        reason = self.message.options.get("dead_letter") or {}
        return int(reason.get("attempts", self.message.options.get("retries", 0)))


class DeadLetters:
    def __init__(self, client: redis.Redis, namespace: str, queues: Sequence[str]) -> None:
        self._client = client
        self._namespace = namespace
        self.queues = list(queues)
        self._replay = client.register_script(REPLAY)

    def count(self, queue: str) -> int:
        return int(self._client.zcard(dead_letters_key(self._namespace, queue)))

    def entries(self, *, queue: str | None = None, limit: int = 1_000) -> list[DeadLetter]:
        found: list[DeadLetter] = []
        for name in self._queues(queue):
            found += self._read(name, limit)
        return sorted(found, key=lambda letter: letter.dead_at_ms)

    def find(self, id_or_prefix: str, *, queue: str | None = None) -> DeadLetter:
        if len(id_or_prefix) < MIN_PREFIX:
            raise DeadLetterNotFound(f"give at least {MIN_PREFIX} characters of the id")
        matches = [letter for letter in self.entries(queue=queue, limit=-1)
                   if letter.id.startswith(id_or_prefix)]
        if len(matches) != 1:
            problem = "no dead letter" if not matches else f"{len(matches)} dead letters"
            raise DeadLetterNotFound(f"{problem} with id {id_or_prefix!r}")
        return matches[0]

    def replay(self, letter: DeadLetter) -> bool:
        """Put *letter* back on its queue as a fresh message (retry count reset)."""
        new_id = generate_unique_id()
        options = {name: value for name, value in letter.message.options.items()
                   if name not in RETRY_OPTIONS}
        message = dataclasses.replace(letter.message, queue_name=letter.queue,
                                      options={**options, "redis_message_id": new_id})
        ns, queue = self._namespace, letter.queue
        moved = self._replay(
            keys=[dead_letters_key(ns, queue), dead_letter_messages_key(ns, queue),
                  queue_key(ns, queue), messages_key(ns, queue), wake_key(ns, queue)],
            args=[letter.id, new_id, message.encode(), WAKE_MAX_TOKENS])
        return bool(moved)

    def purge(self, letter: DeadLetter) -> bool:
        ns = self._namespace
        with self._client.pipeline() as pipe:
            pipe.zrem(dead_letters_key(ns, letter.queue), letter.id)
            pipe.hdel(dead_letter_messages_key(ns, letter.queue), letter.id)
            removed, _ = pipe.execute()
        return bool(removed)

    def _queues(self, queue: str | None) -> list[str]:
        if queue is None:
            return self.queues
        if queue not in self.queues:
            raise DeadLetterNotFound(f"unknown queue {queue!r} (queues: {', '.join(self.queues)})")
        return [queue]

    def _read(self, queue: str, limit: int) -> list[DeadLetter]:
        ns = self._namespace
        stop = limit - 1 if limit > 0 else -1
        scored = cast(list[tuple[bytes, float]], self._client.zrange(
            dead_letters_key(ns, queue), 0, stop, withscores=True))
        if not scored:
            return []
        ids = [member.decode() for member, _ in scored]
        data = cast(list[bytes | None], self._client.hmget(
            dead_letter_messages_key(ns, queue), ids))
        return [DeadLetter(id=id_, queue=queue, dead_at_ms=int(score), message=Message.decode(raw))
                for id_, (_, score), raw in zip(ids, scored, data, strict=True)
                if raw is not None]


class DeadLetterReasons(Middleware):
    """Writes why a message failed into its options, so the dead letter says it."""

    def after_process_message(self, broker: Broker, message: MessageProxy, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        if message.failed and exception is not None:
            lines = traceback.format_exception(exception, limit=TRACEBACK_LINES)
            message.options["dead_letter"] = {
                "error": f"{type(exception).__name__}: {exception}"[:REASON_CHARS],
                "attempts": _attempts(broker, message, exception),
                "traceback": "".join(lines)[-4_000:],
            }


def _attempts(broker: Broker, message: MessageProxy, exception: BaseException) -> int:
    """Retries counts every failure but one it was told to throw (a permanent one)."""
    throws = message.options.get("throws") or broker.get_actor(message.actor_name).options.get(
        "throws")
    thrown = throws is not None and isinstance(exception, throws)
    return int(message.options.get("retries", 0)) + int(thrown)


def _last_line(text: object) -> str:
    lines = str(text or "").strip().splitlines()
    return lines[-1] if lines else ""

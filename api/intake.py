"""`RedisIntake`: dedupe, rate limit and enqueue in one atomic Lua script.

One script call per delivery, so there is no partial state to recover from:
either the job is in dramatiq's queue *and* its id is remembered, or neither.
The dedupe key is written last, so a command failing mid-script can at worst
enqueue a job whose id is not yet remembered (a retry then enqueues it again
and the worker's event-log dedupe publishes it once), never remember an id
whose job is missing. With AOF the script's effects are persisted as one unit.

Rate limit: an exact sliding window (a sorted set of admission times, Redis
server clock), so no window of one second ever passes more than the limit.
Every call is bounded by the enqueue deadline; a timeout or Redis error is
`QueueUnavailable` (503 + Retry-After): a retry of a delivery that did get
enqueued is then answered as a duplicate, so it is never lost nor doubled.
"""

from __future__ import annotations

from typing import Any

from api.jobs import encode_delivery
from api.queue import Admission, Delivery, Outcome, Policy, QueueUnavailable
from api.resp import Arg, RedisReplyError, ReplicaAcks, ScriptConnection
from common.keys import messages_key, queue_key, rate_key, seen_key, stats_key, wake_key
from common.queueing import ENQUEUE_JOB_LUA, WAKE_MAX_TOKENS
from common.redis import primary_locator

ADMIT_LUA = ENQUEUE_JOB_LUA + """
local seen_k, msgs_k, queue_k, wake_k, stats_k, rate_k = unpack(KEYS)
local window_s, message_id, data = ARGV[1], ARGV[2], ARGV[3]
local limit, wake_max = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('HINCRBY', stats_k, 'received', 1)
if redis.call('EXISTS', seen_k) == 1 then
  redis.call('HINCRBY', stats_k, 'duplicates', 1)
  return {'duplicate', 0}
end
if limit > 0 then
  local t = redis.call('TIME')
  local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  redis.call('ZREMRANGEBYSCORE', rate_k, '-inf', now_us - 1000000)
  if redis.call('ZCARD', rate_k) >= limit then
    local oldest = redis.call('ZRANGE', rate_k, 0, 0, 'WITHSCORES')
    redis.call('HINCRBY', stats_k, 'rejected:rate_limited', 1)
    return {'rate_limited', math.ceil((tonumber(oldest[2]) + 1000000 - now_us) / 1000)}
  end
  redis.call('ZADD', rate_k, now_us, message_id)
  redis.call('PEXPIRE', rate_k, 2000)
end
enqueue_job(queue_k, msgs_k, wake_k, message_id, data, wake_max)
redis.call('SET', seen_k, message_id, 'EX', window_s)
redis.call('HINCRBY', stats_k, 'accepted', 1)
return {'accepted', 0}
"""


class RedisIntake:
    """The real `DeliveryQueue`: dramatiq's Redis queue ``<namespace>:<queue>``."""

    def __init__(self, url: str, *, namespace: str, queue: str, timeout_s: float,
                 replica_acks: ReplicaAcks | None = None) -> None:
        self._script = ScriptConnection(primary_locator(url, timeout_s=timeout_s), ADMIT_LUA,
                                        replica_acks=replica_acks)
        self._namespace = namespace
        self._queue = queue
        self._queue_keys = [messages_key(namespace, queue), queue_key(namespace, queue),
                            wake_key(namespace, queue)]
        self._timeout_s = timeout_s

    async def admit(self, delivery: Delivery, policy: Policy) -> Admission:
        job = encode_delivery(self._queue, delivery)
        ns, source = self._namespace, delivery.source
        keys: list[Arg] = [seen_key(ns, source, delivery.delivery_id), *self._queue_keys,
                           stats_key(ns, source), rate_key(ns, source)]
        args: list[Arg] = [policy.dedupe_window_s, job.redis_message_id, job.data,
                policy.rate_limit_per_s or 0, WAKE_MAX_TOKENS]
        reply = await self._call(keys, args)
        return Admission(Outcome(reply[0].decode()), retry_after_ms=int(reply[1]))

    async def _call(self, keys: list[Arg], args: list[Arg]) -> Any:
        try:
            return await self._script.run(keys, args, timeout_s=self._timeout_s)
        except (RedisReplyError, OSError, TimeoutError) as exc:
            raise QueueUnavailable(f"{type(exc).__name__}: {exc}") from exc

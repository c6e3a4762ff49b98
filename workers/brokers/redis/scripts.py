"""The Lua scripts hookstream's broker runs instead of (or beside) dramatiq's ``dispatch.lua``.

They keep dramatiq's keys and message format (a list of ids, a hash of id ->
encoded message, per-worker ack sets, a heartbeat sorted set, the ``XQ``
dead-letter set) and add the wake-up contract of `common.queueing`: every
script that puts a message on a queue also pushes a token to ``<queue>.wake``
and trims that list, so idle consumers blocked on it wake at once.
"""

from __future__ import annotations

from common.queueing import ENQUEUE_JOB_LUA, ENQUEUE_LUA

# Pushes `n` wake tokens to `key`, keeping at most `max_tokens`.
_WAKE = """
local function wake(key, n, max_tokens)
  if n < 1 then return end
  for _ = 1, n do redis.call('rpush', key, 1) end
  redis.call('ltrim', key, -max_tokens, -1)
end
"""

# KEYS: queue, messages, wake.  ARGV: redis message id, encoded message, max tokens.
ENQUEUE = ENQUEUE_LUA  # the same script `common.jobs.JobSender` runs

# KEYS: queue, messages, acks, heartbeats, wake, worker's queues.
# ARGV: count, now ms, worker id, queue name.
# Takes up to `count` ids into this worker's ack set and returns their messages;
# records the queue in the worker's index, so the janitor finds that ack set.
# When the queue is left empty every wake token is stale: drop them.
FETCH = """
redis.call('zadd', KEYS[4], ARGV[2], ARGV[3])
redis.call('sadd', KEYS[6], ARGV[4])
local ids = redis.call('lpop', KEYS[1], ARGV[1])
if redis.call('llen', KEYS[1]) == 0 then redis.call('del', KEYS[5]) end
if not ids then return {} end
redis.call('sadd', KEYS[3], unpack(ids))
local found = {}
local data = redis.call('hmget', KEYS[2], unpack(ids))
for i = 1, #ids do
  if data[i] then
    found[#found + 1] = data[i]
  else
    redis.call('srem', KEYS[3], ids[i])
  end
end
return found
"""

# KEYS: acks, messages.  ARGV: redis message id.  A processed message is forgotten.
ACK = """
redis.call('srem', KEYS[1], ARGV[1])
redis.call('hdel', KEYS[2], ARGV[1])
return 1
"""

# KEYS: queue, messages, acks, wake.  ARGV: max tokens, ids... (in queue order).
# Puts fetched-but-unprocessed messages back at the head of their queue.
REQUEUE = _WAKE + """
local n = 0
for i = #ARGV, 2, -1 do
  local id = ARGV[i]
  if redis.call('srem', KEYS[3], id) == 1 and redis.call('hexists', KEYS[2], id) == 1 then
    redis.call('lpush', KEYS[1], id)
    n = n + 1
  end
end
wake(KEYS[4], n, tonumber(ARGV[1]))
return n
"""

# KEYS: messages, acks, dead letters, dead letter messages.
# ARGV: redis message id, now ms, encoded message (with the failure recorded).
DEAD_LETTER = """
if redis.call('srem', KEYS[2], ARGV[1]) == 0 then return 0 end
if redis.call('hdel', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('zadd', KEYS[3], ARGV[2], ARGV[1])
redis.call('hset', KEYS[4], ARGV[1], ARGV[3])
return 1
"""

# KEYS: heartbeats, worker's queues, then per queue: acks, queue, messages, wake.
# ARGV: worker id, cutoff ms (silent since then = dead), max tokens.
# If the worker is still silent, requeues the unacknowledged messages of each
# of its ack sets at the tail of their queue (with wake tokens), deletes those
# sets and its index, and forgets it.  Returns the number requeued, -1 if the
# worker beat again since the janitor read it (it is alive: nothing done).
REAP = _WAKE + """
local beat = redis.call('zscore', KEYS[1], ARGV[1])
if beat and tonumber(beat) > tonumber(ARGV[2]) then return -1 end
local max_tokens = tonumber(ARGV[3])
local requeued = 0
for i = 3, #KEYS, 4 do
  local acks, queue, msgs, wake_k = KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3]
  local n = 0
  for _, id in ipairs(redis.call('smembers', acks)) do
    if redis.call('hexists', msgs, id) == 1 then
      redis.call('rpush', queue, id)
      n = n + 1
    end
  end
  redis.call('del', acks)
  wake(wake_k, n, max_tokens)
  requeued = requeued + n
end
redis.call('del', KEYS[2])
redis.call('zrem', KEYS[1], ARGV[1])
return requeued
"""

# KEYS: heartbeats, then pairs of dead letters, dead letter messages.
# ARGV: heartbeat cutoff ms, dead letter cutoff ms, most workers returned.
# The janitor's one call per sweep: drops dead letters older than their cutoff
# (at most 1000 per queue per call) and returns the workers silent since the
# heartbeat cutoff (each then goes through REAP).
SWEEP = """
for i = 2, #KEYS, 2 do
  local old = redis.call('zrangebyscore', KEYS[i], '-inf', ARGV[2], 'LIMIT', 0, 1000)
  if #old > 0 then
    redis.call('zrem', KEYS[i], unpack(old))
    redis.call('hdel', KEYS[i + 1], unpack(old))
  end
end
return redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
"""

# KEYS: dead letters, dead letter messages, queue, messages, wake.
# ARGV: dead letter id, new redis message id, encoded message, max tokens.
# Moves one dead letter back onto its queue, once (0 if someone else did first).
REPLAY = ENQUEUE_JOB_LUA + """
if redis.call('zrem', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('hdel', KEYS[2], ARGV[1])
enqueue_job(KEYS[3], KEYS[4], KEYS[5], ARGV[2], ARGV[3], tonumber(ARGV[4]))
return 1
"""

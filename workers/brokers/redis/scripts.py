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

# KEYS: queue, messages, acks, heartbeats, wake.  ARGV: count, now ms, worker id.
# Takes up to `count` ids into this worker's ack set and returns their messages.
# When the queue is left empty every wake token is stale: drop them.
FETCH = """
redis.call('zadd', KEYS[4], ARGV[2], ARGV[3])
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

# KEYS: heartbeats.  ARGV: namespace, now ms, heartbeat timeout ms, dead letter ttl ms,
# max tokens, canonical queue names...
# Requeues the unacknowledged messages of every worker whose heartbeat is older
# than the timeout (with wake tokens) and forgets that worker; drops dead
# letters older than their ttl.  Returns {dead workers, requeued messages}.
REAP = _WAKE + """
local ns, now = ARGV[1], tonumber(ARGV[2])
local max_tokens = tonumber(ARGV[5])
local dead = redis.call('zrangebyscore', KEYS[1], '-inf', now - tonumber(ARGV[3]), 'LIMIT', 0, 100)
local requeued = 0
for _, worker in ipairs(dead) do
  local prefix = ns .. ':__acks__.' .. worker .. '.'
  for _, acks in ipairs(redis.call('keys', prefix .. '*')) do
    local queue = ns .. ':' .. string.sub(acks, #prefix + 1)
    local n = 0
    for _, id in ipairs(redis.call('smembers', acks)) do
      if redis.call('hexists', queue .. '.msgs', id) == 1 then
        redis.call('rpush', queue, id)
        n = n + 1
      end
    end
    redis.call('del', acks)
    wake(queue .. '.wake', n, max_tokens)
    requeued = requeued + n
  end
  redis.call('zrem', KEYS[1], worker)
end
local cutoff = now - tonumber(ARGV[4])
for i = 6, #ARGV do
  local xq = ns .. ':' .. ARGV[i] .. '.XQ'
  local old = redis.call('zrangebyscore', xq, '-inf', cutoff, 'LIMIT', 0, 1000)
  if #old > 0 then
    redis.call('zrem', xq, unpack(old))
    redis.call('hdel', xq .. '.msgs', unpack(old))
  end
end
return {#dead, requeued}
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

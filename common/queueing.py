"""How a job enters a dramatiq Redis queue, for every writer (ingress, broker, `common.jobs`).

dramatiq's RedisBroker stores a queue as a list of message ids
(``<ns>:<queue>``) and a hash of id -> encoded message (``<ns>:<queue>.msgs``).
hookstream adds a wake-up list (``<ns>:<queue>.wake``): every enqueue, by the
broker or by the ingress's own atomic enqueue script, RPUSHes a token to it and
trims it to `WAKE_MAX_TOKENS`; idle consumers block on it instead of polling.
The key names are built in `common.keys`.
"""

from __future__ import annotations

WAKE_MAX_TOKENS = 1_000

# Lua: the one way a job enters a queue, for every script that enqueues
# (the ingress's admission script, the broker's enqueue, dead-letter replay).
ENQUEUE_JOB_LUA = """
local function enqueue_job(queue_k, msgs_k, wake_k, message_id, data, wake_max)
  redis.call('hset', msgs_k, message_id, data)
  redis.call('rpush', queue_k, message_id)
  redis.call('rpush', wake_k, 1)
  redis.call('ltrim', wake_k, -wake_max, -1)
end
"""

# KEYS: queue, messages, wake.  ARGV: redis message id, encoded message, max tokens.
# The enqueue of the broker and of `common.jobs.JobSender`.
ENQUEUE_LUA = ENQUEUE_JOB_LUA + """
enqueue_job(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], tonumber(ARGV[3]))
return 1
"""

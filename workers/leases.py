"""`Lease`: a Redis lock with a fencing token, so one scheduler fires at a time.

Acquire is ``SET NX PX`` of ``<holder>/<fence>`` where the fence number comes
from ``INCR`` (it only grows); renew and release act only while the value is
still ours; and every periodic firing (`claim`) checks the value and the job's
next due time in one script, so a scheduler that lost its lease while paused
cannot fire after a new one took over.
"""

from __future__ import annotations

import redis

# KEYS: lock, fence counter.  ARGV: holder, ttl ms.  Returns the fence number, or 0.
ACQUIRE = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
local fence = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], ARGV[1] .. '/' .. fence, 'PX', ARGV[2])
return fence
"""

# KEYS: lock.  ARGV: value, ttl ms (0 = release).
RENEW = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then redis.call('del', KEYS[1]) else redis.call('pexpire', KEYS[1], ARGV[2]) end
return 1
"""

# KEYS: lock, schedule hash.  ARGV: value, job name, interval ms.
# Returns -1 when the lease is lost, 0 when the job fires now, else its next due time (ms).
CLAIM = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return -1 end
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[3])
local due = tonumber(redis.call('hget', KEYS[2], ARGV[2]) or '0')
if due > now and due <= now + interval then return due - now end
redis.call('hset', KEYS[2], ARGV[2], now + interval)
return 0
"""

LOST = -1


class Lease:
    def __init__(self, client: redis.Redis, key: str, *, holder: str, ttl_s: float) -> None:
        self._client = client
        self._key = key
        self._holder = holder
        self._ttl_ms = int(ttl_s * 1000)
        self._value: str | None = None
        self._acquire = client.register_script(ACQUIRE)
        self._renew = client.register_script(RENEW)
        self._claim = client.register_script(CLAIM)

    @property
    def held(self) -> bool:
        return self._value is not None

    def acquire(self) -> bool:
        fence = int(self._acquire(keys=[self._key, f"{self._key}:fence"],
                                  args=[self._holder, self._ttl_ms]))
        self._value = f"{self._holder}/{fence}" if fence else None
        return self.held

    def renew(self) -> bool:
        if self._value is not None and not self._renew(keys=[self._key],
                                                       args=[self._value, self._ttl_ms]):
            self._value = None
        return self.held

    def release(self) -> None:
        if self._value is not None:
            self._renew(keys=[self._key], args=[self._value, 0])
            self._value = None

    def claim(self, schedule_key: str, job: str, interval_s: float) -> int:
        """Fire *job* if it is due and the lease is ours: 0 = fire, -1 = lease lost,
        otherwise milliseconds until it is due."""
        if self._value is None:
            return LOST
        outcome = int(self._claim(keys=[self._key, schedule_key],
                                  args=[self._value, job, int(interval_s * 1000)]))
        if outcome == LOST:
            self._value = None
        return outcome

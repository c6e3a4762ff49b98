"""The Airtable request budget: per base and per token, shared by every process through Redis.

Airtable allows 5 requests/s per base and 50/s per token, counted over any
sliding second, and answers 429 with a 30 s penalty past that. Counting
calendar seconds (dramatiq's limiters) lets 2x the limit through around a
second boundary, so the budget here is a *schedule* of request slots (µs of the
Redis server clock), taken by one Lua call that tells the caller how long to
wait for its slot:

- per base, GCRA: the key holds the base's next free slot; slots are at least
  ``1 / (rate * (1 - headroom))`` apart (default 4 % headroom: 4.8 requests/s
  of 5), so no sliding second holds more than ``rate`` of them, and a request
  may reach Airtable up to ~42 ms after its slot before that could change;
- per token, a log of the slots taken (a sorted set): a slot is given only if
  no window of ``1 s * (1 + headroom)`` around it would hold more than the
  token's rate, so bases share the token without queueing behind each other.

Slots of a base are handed out in order (first come, first served; nobody
polls). Right before sending, a second Lua call (`SEND_LUA`) checks the base's
pause again (a 429 may have come meanwhile) and logs the *actual* send time: if
five requests of the base were really sent within the last 1.025 s (a thread
that woke up late, on a busy CPU, next to one on time), the caller waits the few
ms until the oldest leaves that window (25 ms left for the way to Airtable). So the
guarantee holds for the times requests are sent, not only for their slots.

A slot further off than the caller will wait is not taken (`BudgetBusy`), and
while a base is paused after a 429 (`pause`, shared by every process) no slot
is given at all (`BasePaused`): both carry how long to wait.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import redis

from common.redis import text
from domains.airtable import keys
from domains.airtable.errors import BasePaused, BudgetBusy

DEFAULT_HEADROOM = 0.04
SEND_MARGIN_S = 0.025  # sends of a base are logged over 1.025 s: 25 ms for the way to Airtable
SEND_RETRIES = 5
NO_BASE = "-"  # requests that name no base (whoami, list bases) count on the token only

# KEYS: base slot, token log, base pause, stats.
# ARGV: base interval µs, token limit per window, token window µs, longest wait µs,
#       base id (stats field), a unique member for the token log.
TAKE_LUA = """
local base_k, token_k, pause_k, stats_k = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local base_us, limit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local max_wait_us, base, member = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local paused_ms = redis.call('PTTL', pause_k)
if paused_ms > 0 then
  redis.call('HINCRBY', stats_k, 'paused_waits:' .. base, 1)
  return {'paused', paused_ms * 1000, 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', token_k, '-inf', string.format('%d', now - window))

-- The first window of the token log that would be over its limit with a slot at c
-- (its start), or nil when c fits.
local function crowded(c)
  local near = redis.call('ZRANGEBYSCORE', token_k, string.format('(%d', c - window),
                          string.format('(%d', c + window), 'WITHSCORES')
  local times = {}
  for i = 2, #near, 2 do times[#times + 1] = tonumber(near[i]) end
  local starts = {c}
  for _, s in ipairs(times) do
    if s <= c then starts[#starts + 1] = s end
  end
  for _, start in ipairs(starts) do
    local n = 1
    for _, s in ipairs(times) do
      if s >= start and s < start + window then n = n + 1 end
    end
    if n > limit then return start end
  end
  return nil
end

local slot = math.max(now, tonumber(redis.call('GET', base_k) or 0))
for _ = 1, 20 do
  local start = crowded(slot)
  if start == nil then break end
  slot = math.max(slot, start + window)
end
local wait = slot - now
if wait > max_wait_us or crowded(slot) ~= nil then
  redis.call('HINCRBY', stats_k, 'busy:' .. base, 1)
  return {'busy', wait, 0}
end
local keep_ms = math.ceil((wait + base_us + window) / 1000) + 1000
redis.call('SET', base_k, string.format('%d', slot + base_us), 'PX', keep_ms)
redis.call('ZADD', token_k, string.format('%d', slot), member)
redis.call('PEXPIRE', token_k, keep_ms)
redis.call('HINCRBY', stats_k, 'granted:' .. base, 1)
return {'granted', wait, string.format('%d', slot)}
"""

# KEYS: base send log, base pause, stats. ARGV: limit, window µs, unique member, base id.
SEND_LUA = """
local sent_k, pause_k, stats_k = KEYS[1], KEYS[2], KEYS[3]
local limit, window, member, base = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local paused_ms = redis.call('PTTL', pause_k)
if paused_ms > 0 then
  return {'paused', paused_ms * 1000}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', sent_k, '-inf', string.format('%d', now - window))
local n = redis.call('ZCARD', sent_k)
if n >= limit then
  local leaving = redis.call('ZRANGE', sent_k, n - limit, n - limit, 'WITHSCORES')
  redis.call('HINCRBY', stats_k, 'held:' .. base, 1)
  return {'wait', tonumber(leaving[2]) + window - now + 1}
end
redis.call('ZADD', sent_k, string.format('%d', now), member)
redis.call('PEXPIRE', sent_k, math.ceil(window / 1000) + 1000)
return {'go', 0}
"""

# KEYS: base pause, stats. ARGV: pause ms, base id. Never shortens a longer pause.
PAUSE_LUA = """
local pause_k, stats_k = KEYS[1], KEYS[2]
local pause_ms, base = tonumber(ARGV[1]), ARGV[2]
redis.call('HINCRBY', stats_k, 'throttled:' .. base, 1)
if redis.call('PTTL', pause_k) >= pause_ms then
  return 0
end
redis.call('SET', pause_k, '1', 'PX', pause_ms)
redis.call('HINCRBY', stats_k, 'pauses:' .. base, 1)
return 1
"""


@dataclass(frozen=True, slots=True)
class Slot:
    """A request slot taken: start the request *wait_s* from now (at *slot_us*, Redis clock)."""

    wait_s: float
    slot_us: int


def token_digest(token: str) -> str:
    """A stable, non-secret name for an API token (its budget key, its stats)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class RequestBudget:
    """Takes request slots for one API token; `acquire` sleeps until the slot comes."""

    def __init__(self, client: redis.Redis, *, namespace: str, token: str,
                 base_rate_per_s: float, token_rate_per_s: float,
                 headroom: float = DEFAULT_HEADROOM,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._namespace = namespace
        self._token_id = token_digest(token)
        self._base_interval_us = _interval_us(base_rate_per_s, headroom)
        self._base_limit = max(1, int(base_rate_per_s))
        self._token_limit = max(1, int(token_rate_per_s))
        self._token_window_us = int(1e6 * (1 + headroom))
        self._base_window_us = int(1e6 + SEND_MARGIN_S * 1e6)
        self._take = client.register_script(TAKE_LUA)
        self._pause = client.register_script(PAUSE_LUA)
        self._send = client.register_script(SEND_LUA)
        self._sleep = sleep

    def take(self, base: str | None, *, max_wait_s: float) -> Slot:
        """Take the next slot within *max_wait_s*, or raise `BasePaused` / `BudgetBusy`."""
        name = base or NO_BASE
        reply = self._take(
            keys=[keys.base_budget_key(self._namespace, name),
                  keys.token_budget_key(self._namespace, self._token_id),
                  keys.base_pause_key(self._namespace, name), keys.stats_key(self._namespace)],
            args=[self._base_interval_us, self._token_limit, self._token_window_us,
                  int(max_wait_s * 1e6), name, uuid.uuid4().hex])
        outcome, wait_us, slot_us = text(reply[0]), int(reply[1]), int(reply[2])
        if outcome == "paused":
            raise BasePaused(f"base {name} is paused after a 429", retry_after_s=wait_us / 1e6)
        if outcome == "busy":
            raise BudgetBusy(f"no request slot for base {name} within {max_wait_s} s",
                             retry_after_s=wait_us / 1e6)
        return Slot(wait_s=wait_us / 1e6, slot_us=slot_us)

    def acquire(self, base: str | None, *, max_wait_s: float) -> Slot:
        """`take` a slot, sleep until it comes, then `clear_to_send` (may wait a few ms)."""
        slot = self.take(base, max_wait_s=max_wait_s)
        if slot.wait_s > 0:
            self._sleep(slot.wait_s)
        self.clear_to_send(base)
        return slot

    def clear_to_send(self, base: str | None) -> None:
        """Log this send in the base's window, after waiting for room; `BasePaused` if paused."""
        name = base or NO_BASE
        for _ in range(SEND_RETRIES):
            reply = self._send(keys=[keys.base_sent_key(self._namespace, name),
                                     keys.base_pause_key(self._namespace, name),
                                     keys.stats_key(self._namespace)],
                               args=[self._base_limit, self._base_window_us, uuid.uuid4().hex,
                                     name])
            outcome, wait_us = text(reply[0]), int(reply[1])
            if outcome == "go":
                return
            if outcome == "paused":
                raise BasePaused(f"base {name} was paused after a 429",
                                 retry_after_s=wait_us / 1e6)
            self._sleep(wait_us / 1e6)
        raise BudgetBusy(f"base {name}: no room to send after {SEND_RETRIES} tries",
                         retry_after_s=1.0)

    def pause(self, base: str, pause_s: float) -> bool:
        """Pause *base* for *pause_s* in every process (True unless a longer pause was on)."""
        reply = self._pause(keys=[keys.base_pause_key(self._namespace, base),
                                  keys.stats_key(self._namespace)],
                            args=[max(1, int(pause_s * 1000)), base])
        return bool(reply)

    def paused_for_s(self, base: str) -> float:
        """How long *base* stays paused (0 when it is not)."""
        remaining_ms = int(self._client.pttl(keys.base_pause_key(self._namespace, base)))
        return max(0, remaining_ms) / 1000


def _interval_us(rate_per_s: float, headroom: float) -> int:
    return int(1e6 / (rate_per_s * (1 - headroom))) + 1

"""`WebhookLease`: one worker at a time processes a webhook's payloads.

Acquire is ``SET NX PX`` of a random holder value; renew and release act only
while the value is still ours; and the cursor advances in the same script that
checks the lease, only ever forward, so a worker that lost its lease (paused
past the TTL) can neither move the cursor back nor race the new holder.
"""

from __future__ import annotations

import secrets

import redis

# KEYS: lease.  ARGV: value, ttl ms (0 = release).
RENEW = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then redis.call('del', KEYS[1]) else redis.call('pexpire', KEYS[1], ARGV[2]) end
return 1
"""

# KEYS: lease, cursor.  ARGV: value, new cursor.  1 = stored (or already past), 0 = lease lost.
ADVANCE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local current = tonumber(redis.call('get', KEYS[2]) or '1')
if tonumber(ARGV[2]) > current then redis.call('set', KEYS[2], ARGV[2]) end
return 1
"""


class WebhookLease:
    def __init__(self, client: redis.Redis, *, lease_key: str, cursor_key: str,
                 ttl_s: float) -> None:
        self._client = client
        self._lease_key = lease_key
        self._cursor_key = cursor_key
        self._ttl_ms = max(1, int(ttl_s * 1000))
        self._value = secrets.token_hex(8)
        self._held = False
        self._renew = client.register_script(RENEW)
        self._advance = client.register_script(ADVANCE)

    @property
    def held(self) -> bool:
        return self._held

    def acquire(self) -> bool:
        self._held = bool(self._client.set(self._lease_key, self._value, nx=True,
                                           px=self._ttl_ms))
        return self._held

    def remaining_s(self) -> float:
        """How long until the current holder's lease lapses (0 if nobody holds it)."""
        return max(0, int(self._client.pttl(self._lease_key))) / 1000

    def renew(self) -> bool:
        if self._held:
            self._held = bool(self._renew(keys=[self._lease_key], args=[self._value,
                                                                        self._ttl_ms]))
        return self._held

    def release(self) -> None:
        if self._held:
            self._renew(keys=[self._lease_key], args=[self._value, 0])
            self._held = False

    def cursor(self) -> int:
        raw = self._client.get(self._cursor_key)
        return int(raw) if raw else 1

    def advance(self, cursor: int) -> bool:
        """Store ``cursor`` if it is further on and the lease is still ours."""
        if not self._held:
            return False
        self._held = bool(self._advance(keys=[self._lease_key, self._cursor_key],
                                        args=[self._value, cursor]))
        return self._held

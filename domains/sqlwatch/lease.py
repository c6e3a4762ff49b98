"""A Redis lease: the holder of a key for a ttl, renewed by the holder only (token-fenced).

One reader per watch holds its lease; a second reader process (another scheduler)
waits and takes over within one ttl when the holder dies. The diff lock is the
same object with a short ttl.
"""

from __future__ import annotations

import time
import uuid

import redis

# KEYS[1] lease key; ARGV[1] token, ARGV[2] ttl ms
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# KEYS[1] lease key; ARGV[1] token
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    def __init__(self, client: redis.Redis, key: str, *, ttl_s: float) -> None:
        self._client = client
        self._key = key
        self._ttl_ms = int(ttl_s * 1000)
        self._token = uuid.uuid4().hex
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)
        self.held = False
        self._renewed_at = 0.0

    @property
    def ttl_s(self) -> float:
        return self._ttl_ms / 1000

    def hold(self) -> bool:
        """Acquire the lease or renew it; False when another holder has it.

        A lease renewed less than a sixth of its ttl ago is not renewed again, so a
        reader woken often does not pay a Redis round trip per wake-up.
        """
        now = time.monotonic()
        if self.held and now - self._renewed_at < self._ttl_ms / 6000:
            return True
        if self.held:
            self.held = bool(self._renew(keys=[self._key], args=[self._token, self._ttl_ms]))
        if not self.held:
            self.held = bool(self._client.set(self._key, self._token, nx=True, px=self._ttl_ms))
        self._renewed_at = now
        return self.held

    def wait_for(self, timeout_s: float, *, pause_s: float = 0.01) -> bool:
        deadline = time.monotonic() + timeout_s
        while not self.hold():
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause_s)
        return True

    def release(self) -> None:
        if self.held:
            self._release(keys=[self._key], args=[self._token])
        self.held = False

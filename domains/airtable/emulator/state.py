"""The emulator's whole state, and the one place a transaction is committed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domains.airtable.emulator.clock import Clock
from domains.airtable.emulator.pings import Pinger
from domains.airtable.emulator.ratelimit import RateLimiter
from domains.airtable.emulator.store import Base, Store, TableChange
from domains.airtable.emulator.webhooks import Transaction, Webhooks

API_ACTION = {"source": "publicApi", "sourceMetadata": {"user": {
    "id": "usrEmulatorApi0001", "email": "api@emulator.local", "name": "API token",
    "permissionLevel": "create"}}}
PERSON = {"id": "usrEmulatorPerson1", "email": "person@emulator.local", "name": "A Person",
          "permissionLevel": "create"}


@dataclass
class Emulator:
    tokens: frozenset[str] = frozenset()
    clock: Clock = field(default_factory=Clock)
    store: Store = field(default_factory=Store)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    webhooks: Webhooks = field(init=False)
    pinger: Pinger = field(init=False)

    def __post_init__(self) -> None:
        self.webhooks = Webhooks(self.clock)
        self.pinger = Pinger(self.clock)

    def token_ok(self, token: str) -> bool:
        return bool(token) and (not self.tokens or token in self.tokens)

    def commit(self, base: Base, changes: dict[str, TableChange], *,
               action: dict[str, Any] | None = None, split: int = 1,
               ping: bool = True) -> Transaction | None:
        """Number the transaction, leave its webhook payloads, and ping (if it changed anything)."""
        if not any(changes.values()):
            return None
        transaction = Transaction(base_id=base.id, number=base.next_transaction(),
                                  timestamp_s=self.clock.now_s(), action=action or API_ACTION,
                                  tables=changes)
        for hook in self.webhooks.record(transaction, split=split):
            if ping:
                self.pinger.notify(hook)
        return transaction


def person_action(user: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"source": "client", "sourceMetadata": {"user": user or PERSON}}

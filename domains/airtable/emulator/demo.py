"""The demo base coming alive: a webhook wired to the ingress and a person editing records.

`wire` creates a webhook on the demo base whose pings go to the ingress (its MAC
secret stored in Redis for the verifier, through `Webhooks`); `churn` makes a
change "by a person" every few seconds through the admin API, so the demo page
shows Airtable records changing live without an Airtable account.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable

import httpx

DEMO_BASE = "appHookstreamDemo"
DEMO_TABLE = "tblTasks000000001"
STATUSES = ("Todo", "Doing", "Done")
OWNERS = ("Ada", "Grace", "Linus", "Barbara", "Edsger")
RECORDS = ("recTask0000000001", "recTask0000000002", "recTask0000000003")


def one_change(step: int) -> dict[str, object]:
    """The admin change of ``step``: mostly edits, now and then a record born and removed."""
    pick = random.Random(step)
    if step % 10 == 9:
        return {"table": DEMO_TABLE, "create": [{"fields": {
            "Name": f"Idea #{step}", "Status": "Todo", "Owner": pick.choice(OWNERS)}}]}
    fields: dict[str, object] = {"Status": pick.choice(STATUSES), "Points": pick.randint(1, 8)}
    if pick.random() < 0.3:
        fields["Owner"] = pick.choice(OWNERS)
    return {"table": DEMO_TABLE, "update": [{"id": pick.choice(RECORDS), "fields": fields}]}


def churn(emulator_url: str, *, every_s: float, steps: int | None = None,
          sleep: Callable[[float], None] = time.sleep) -> None:
    """Change the demo base every ``every_s`` seconds (forever unless ``steps``)."""
    with httpx.Client(base_url=f"{emulator_url}/_admin", timeout=10) as client:
        for step in itertools.islice(itertools.count(), steps):
            client.post(f"/bases/{DEMO_BASE}/changes", json=one_change(step)).raise_for_status()
            sleep(every_s)

"""The demo churn: a person's changes to the demo base, seen by a webhook."""

from __future__ import annotations

from domains.airtable.emulator.demo import churn, one_change
from tests.airtable_support import DEMO_BASE, DEMO_TABLE

SPEC = {"options": {"filters": {"dataTypes": ["tableData"], "recordChangeScope": DEMO_TABLE}}}


def test_churn_changes_the_demo_base_as_a_person(emulator, api) -> None:
    hook = api.base(DEMO_BASE).add_webhook("http://127.0.0.1:9/unused", SPEC)
    churn(emulator.url, every_s=0, steps=10, sleep=lambda s: None)
    payloads = list(api.base(DEMO_BASE).webhook(hook.id).payloads())
    assert len(payloads) >= 9  # an edit that sets the same values changes nothing
    assert {p.action_metadata.source for p in payloads} == {"client"}
    assert len(api.table(DEMO_BASE, "Tasks").all()) == 4  # step 9 created one


def test_changes_are_reproducible() -> None:
    assert one_change(3) == one_change(3)
    assert "create" in one_change(9)

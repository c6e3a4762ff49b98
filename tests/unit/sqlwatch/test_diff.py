"""Pure diffing: only changed columns, moves between topics, hidden columns never sent."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domains.sqlwatch.applier import batch_from_rows
from domains.sqlwatch.diff import Shape, diff_all, plain, serialise_rows

SHAPE = Shape("trips", ("id",), "trips/company/{company_id}", ("id", "company_id", "seats"))


def events(before, after):
    previous, current = serialise_rows(SHAPE, before), serialise_rows(SHAPE, after)
    return [(e.topic, e.type, e.data) for _, found in diff_all(SHAPE, previous, current)
            for e in found]


def test_a_change_sends_only_the_changed_visible_columns():
    before = [{"id": 1, "company_id": 7, "seats": 40, "secret": "a"}]
    after = [{"id": 1, "company_id": 7, "seats": 39, "secret": "b"}]
    assert events(before, after) == [("trips/company/7", "row.changed", {
        "watch": "trips", "key": {"id": 1}, "fields": {"seats": 39}, "previous": {"seats": 40}})]


def test_a_hidden_column_change_alone_sends_nothing():
    assert events([{"id": 1, "company_id": 7, "seats": 1, "secret": "a"}],
                  [{"id": 1, "company_id": 7, "seats": 1, "secret": "b"}]) == []


def test_a_row_moving_company_is_removed_from_one_and_added_to_the_other():
    got = events([{"id": 1, "company_id": 7, "seats": 1}], [{"id": 1, "company_id": 8, "seats": 1}])
    assert [(topic, kind) for topic, kind, _ in got] == [
        ("trips/company/7", "row.removed"), ("trips/company/8", "row.added")]


def test_added_and_removed_rows():
    got = events([{"id": 1, "company_id": 7, "seats": 1}], [{"id": 2, "company_id": 7, "seats": 2}])
    assert sorted(kind for _, kind, _ in got) == ["row.added", "row.removed"]


def test_event_ids_are_deterministic_for_one_transition_and_differ_across_generations():
    previous = serialise_rows(SHAPE, [{"id": 1, "company_id": 7, "seats": 1}])
    current = serialise_rows(SHAPE, [{"id": 1, "company_id": 7, "seats": 2}])
    first = batch_from_rows(SHAPE, previous, current, generation=3)
    again = batch_from_rows(SHAPE, previous, current, generation=3)
    later = batch_from_rows(SHAPE, previous, current, generation=4)
    assert [i for i, _ in first.events] == [i for i, _ in again.events]
    assert [i for i, _ in first.events] != [i for i, _ in later.events]


def test_database_values_become_json_native():
    assert plain(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05"
    assert plain(Decimal("1.50")) == "1.50"
    assert plain(b"\x01") == "01"

"""The emulator's records API, driven by pyairtable over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from pyairtable import Api
from requests import HTTPError

from tests.airtable_support import DEMO_BASE, DEMO_TABLE, start_emulator


def test_lists_the_seeded_records_by_table_name_or_id(api: Api) -> None:
    by_name = api.table(DEMO_BASE, "Tasks").all()
    by_id = api.table(DEMO_BASE, DEMO_TABLE).all()
    assert [r["id"] for r in by_name] == [r["id"] for r in by_id]
    assert by_name[0]["fields"]["Name"] == "Wire the webhook"
    assert "Done" not in by_name[1]["fields"]  # empty cells are left out, as Airtable does


def test_pages_follow_the_offset(api: Api) -> None:
    table = api.table(DEMO_BASE, "Tasks")
    table.batch_create([{"Name": f"task {i}"} for i in range(27)])
    pages = list(table.iterate(page_size=10))
    assert [len(p) for p in pages] == [10, 10, 10]
    assert len({r["id"] for p in pages for r in p}) == 30


def test_page_size_over_100_is_refused(emulator) -> None:
    response = httpx.get(f"{emulator.url}/v0/{DEMO_BASE}/Tasks", params={"pageSize": 101},
                         headers={"Authorization": "Bearer t"})
    assert response.status_code == 422


def test_filter_sort_fields_and_max_records(api: Api) -> None:
    table = api.table(DEMO_BASE, "Tasks")
    assert [r["fields"]["Owner"] for r in table.all(formula="{Owner}='Ada'")] == ["Ada"]
    by_points = table.all(sort=["-Points"], fields=["Name", "Points"])
    assert [r["fields"]["Points"] for r in by_points] == [5, 3, 2]
    assert set(by_points[0]["fields"]) == {"Name", "Points"}
    assert len(table.all(max_records=2)) == 2
    one = table.all(formula="RECORD_ID()='recTask0000000002'")
    assert [r["id"] for r in one] == ["recTask0000000002"]
    assert len(table.all(formula="AND({Points}>2, NOT({Done}))")) == 1
    assert len(table.all(view="Grid view")) == 3


def test_unknown_formula_function_is_refused(api: Api) -> None:
    with pytest.raises(HTTPError) as caught:
        api.table(DEMO_BASE, "Tasks").all(formula="REGEX_MATCH({Name}, 'x')")
    assert caught.value.response.status_code == 422


def test_fields_by_field_id(api: Api) -> None:
    record = api.table(DEMO_BASE, "Tasks").get("recTask0000000001", use_field_ids=True)
    assert record["fields"]["fldTaskName000001"] == "Wire the webhook"


def test_create_update_replace_delete(api: Api) -> None:
    table = api.table(DEMO_BASE, "Tasks")
    created = table.create({"Name": "new", "Points": 1})
    assert table.get(created["id"])["fields"] == {"Name": "new", "Points": 1}
    table.update(created["id"], {"Owner": "Bo"})
    assert table.get(created["id"])["fields"] == {"Name": "new", "Points": 1, "Owner": "Bo"}
    table.update(created["id"], {"Name": "only"}, replace=True)
    assert table.get(created["id"])["fields"] == {"Name": "only"}
    assert table.delete(created["id"]) == {"id": created["id"], "deleted": True}
    with pytest.raises(HTTPError) as caught:
        table.get(created["id"])
    assert caught.value.response.status_code == 404


def test_batches_over_ten_records_are_refused(emulator) -> None:
    records = [{"fields": {"Name": str(i)}} for i in range(11)]
    response = httpx.post(f"{emulator.url}/v0/{DEMO_BASE}/Tasks", json={"records": records},
                          headers={"Authorization": "Bearer t"})
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "INVALID_RECORDS"
    ids = [f"rec{i:014d}" for i in range(11)]
    response = httpx.delete(f"{emulator.url}/v0/{DEMO_BASE}/Tasks", params={"records[]": ids},
                            headers={"Authorization": "Bearer t"})
    assert response.status_code == 422


def test_pyairtable_batches_chunk_by_ten(api: Api) -> None:
    table = api.table(DEMO_BASE, "Tasks")
    created = table.batch_create([{"Name": f"n{i}"} for i in range(23)])
    updated = table.batch_update([{"id": r["id"], "fields": {"Points": 7}} for r in created])
    assert {r["fields"]["Points"] for r in updated} == {7}
    deleted = table.batch_delete([r["id"] for r in created])
    assert len(deleted) == 23 and len(table.all()) == 3


def test_a_refused_batch_writes_nothing(api: Api) -> None:
    table = api.table(DEMO_BASE, "Tasks")
    with pytest.raises(HTTPError) as caught:
        table.batch_create([{"Name": "fine"}, {"Points": "not a number"}])
    assert caught.value.response.status_code == 422
    assert len(table.all()) == 3


def test_typecast_converts_and_unknown_fields_are_refused(api: Api) -> None:
    table = api.table(DEMO_BASE, "Tasks")
    record = table.create({"Name": 12, "Points": "4", "Done": "yes"}, typecast=True)
    assert record["fields"] == {"Name": "12", "Points": 4, "Done": True}
    with pytest.raises(HTTPError) as caught:
        table.create({"Nope": "x"})
    assert caught.value.response.json()["error"]["type"] == "UNKNOWN_FIELD_NAME"


def test_upsert_merges_on_fields(api: Api) -> None:
    table = api.table(DEMO_BASE, "Tasks")
    result = table.batch_upsert([{"fields": {"Name": "Cache the reads", "Points": 8}},
                                 {"fields": {"Name": "Brand new", "Points": 1}}],
                                key_fields=["Name"])
    assert result["updatedRecords"] == ["recTask0000000003"]
    assert len(result["createdRecords"]) == 1
    assert table.get("recTask0000000003")["fields"]["Points"] == 8


def test_base_schema_parses_in_pyairtable(api: Api) -> None:
    schema = api.base(DEMO_BASE).schema()
    table = schema.table("Tasks")
    assert table.id == DEMO_TABLE
    assert table.field("Points").id == "fldTaskPoints0001"
    assert table.primary_field_id == "fldTaskName000001"


def test_a_token_is_required() -> None:
    server = start_emulator(tokens=frozenset({"right"}))
    try:
        assert Api("right", endpoint_url=server.url).table(DEMO_BASE, "Tasks").all()
        with pytest.raises(HTTPError) as caught:
            Api("wrong", endpoint_url=server.url, retry_strategy=None).table(
                DEMO_BASE, "Tasks").all()
        assert caught.value.response.status_code == 401
        assert httpx.get(f"{server.url}/v0/{DEMO_BASE}/Tasks").status_code == 401
    finally:
        server.stop()

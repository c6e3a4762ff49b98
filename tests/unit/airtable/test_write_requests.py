"""Write requests are checked before they are queued: clear errors for bad input."""

import pytest

from domains.airtable.errors import InvalidWrite
from domains.airtable.write_requests import WriteRequest, parse_write

BASE, TABLE = "appAAAAAAAAAAAAAA", "tblTTTTTTTTTTTTTT"


def test_create_update_upsert_and_delete_are_told_apart() -> None:
    create = parse_write("POST", BASE, TABLE, {"records": [{"fields": {"Name": "a"}}],
                                                "typecast": True})
    update = parse_write("PATCH", BASE, TABLE, {"records": [
        {"id": "rec1", "fields": {"Name": "b"}, "expect": {"Name": "a"}}]})
    upsert = parse_write("PATCH", BASE, TABLE, {
        "performUpsert": {"fieldsToMergeOn": ["Name"]}, "records": [{"fields": {"Name": "c"}}]})
    delete = parse_write("DELETE", BASE, TABLE, {"records": ["rec1", "rec2"]})
    assert (create.op, create.typecast) == ("create", True)
    assert update.op == "update" and update.records[0]["expect"] == {"Name": "a"}
    assert upsert.op == "upsert" and upsert.merge_on == ["Name"]
    assert delete.op == "delete" and [r["id"] for r in delete.records] == ["rec1", "rec2"]
    assert WriteRequest.from_doc(update.to_doc()) == update


@pytest.mark.parametrize(("method", "base", "doc", "message"), [
    ("POST", BASE, [], "JSON object"),
    ("POST", BASE, {"records": []}, "non-empty"),
    ("POST", BASE, {"records": "x"}, "non-empty"),
    ("POST", BASE, {"records": [{"name": "x"}]}, '"fields"'),
    ("POST", BASE, {"records": [{"fields": {}, "id": "rec1"}]}, "only"),
    ("POST", "base1", {"records": [{"fields": {}}]}, "bad base id"),
    ("PATCH", BASE, {"records": [{"fields": {}}]}, "bad record id"),
    ("PATCH", BASE, {"records": [{"id": "rec1", "fields": {}, "expect": {}}]}, "expect"),
    ("PATCH", BASE, {"performUpsert": {"fieldsToMergeOn": []}, "records": [{"fields": {}}]},
     "fieldsToMergeOn"),
    ("DELETE", BASE, {"records": [{"id": "rec1"}]}, "bad record id"),
    ("POST", BASE, {"records": [{"fields": {}}], "typecast": "yes"}, "typecast"),
], ids=["not-object", "empty", "not-list", "no-fields", "create-with-id", "bad-base",
        "update-without-id", "empty-expect", "empty-merge-on", "delete-objects", "typecast"])
def test_bad_write_requests_are_refused_with_the_reason(method, base, doc, message) -> None:
    with pytest.raises(InvalidWrite, match=message):
        parse_write(method, base, TABLE, doc)

"""/openapi.json stays true to the routes: every documented operation exists, and no route
is undocumented."""

import pytest

from api.app import create_app
from api.asgi import webhook_source
from api.openapi import DOCUMENT
from api.queue import MemoryQueue
from api.resources.airtable import AirtableDeps
from api.stats import MemoryStats

ROUTES = {"/webhooks/{source}", "/publish", "/healthz", "/readyz", "/metrics", "/openapi.json",
          "/sql/{watch}/snapshot",
          "/airtable/{base}/{table}/records", "/airtable/{base}/{table}/records/{record}",
          "/airtable/jobs/{job}", "/airtable/stats"}


@pytest.fixture
def app(make_settings):
    return create_app(make_settings(), queue=MemoryQueue(), stats=MemoryStats(),
                      publisher=None, ping=None, backlog=None,
                      airtable=AirtableDeps(None, None, None, None, None))


def test_every_documented_operation_has_a_responder(app):
    for path, operations in DOCUMENT["paths"].items():
        concrete = (path.replace("{source}", "demo").replace("{base}", "appA")
                    .replace("{table}", "tblT").replace("{record}", "recR")
                    .replace("{job}", "job1"))
        found = app.app._router.find(concrete)
        for method in operations:
            scope = {"type": "http", "method": method.upper(), "path": concrete}
            if webhook_source(scope) is not None:  # the bare endpoint (api/endpoint.py)
                continue
            assert found is not None, path
            assert hasattr(found[0], f"on_{method}"), (path, method)


def test_every_route_is_documented_and_every_error_has_the_error_shape(app):
    assert set(DOCUMENT["paths"]) == ROUTES
    for operations in DOCUMENT["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}

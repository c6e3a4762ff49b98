"""Generated bad input against the real ingress: never a 5xx, never a job."""

import string

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.verifiers.standard import sign
from tests.integration.test_ingress import MSGS, ingress  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration

HEADER_TEXT = st.text(alphabet=string.printable.strip() + " ", max_size=80).map(str.strip)
HEADER_NAMES = ["webhook-id", "webhook-timestamp", "webhook-signature", "x-hub-signature-256",
                "x-github-delivery", "content-type", "authorization", "x-request-id",
                "stripe-signature", "transfer-encoding-x"]
CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded",
                 "application/vnd.api+json", "", "application/json; charset=utf-8"]
BODIES = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=300).map(str.encode),
    st.just(b'{"type":"x"}'),
    st.binary(min_size=2100, max_size=2600),
)


@st.composite
def bad_requests(draw):
    source = draw(st.sampled_from(["demo", "gh", "nope", "DEMO", "a" * 70, "..", "%00"]))
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE"]))
    headers = draw(st.dictionaries(st.sampled_from(HEADER_NAMES), HEADER_TEXT, max_size=6))
    headers["content-type"] = draw(st.sampled_from(CONTENT_TYPES))
    body = draw(BODIES)
    if draw(st.booleans()):  # a genuine signature, over a body that is not JSON
        body = b"\x00" + body
        headers.update(sign("whsec_" + "QUJDREVGR0hJSktMTU5PUA==", "m", 1, body))
    path = draw(st.sampled_from([f"/webhooks/{source}", "/publish", "/webhooks/", "/readyz"]))
    return method, path, headers, body


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(request=bad_requests())
def test_bad_input_never_gives_5xx_nor_a_job(ingress, redis_client, request):  # noqa: F811
    method, path, headers, body = request
    content = body if method in ("POST", "PUT") else None
    response = httpx.request(method, f"{ingress}{path}", headers=headers, content=content,
                             timeout=10)
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        assert "error" in response.json()
    assert redis_client.hlen(MSGS) == 0

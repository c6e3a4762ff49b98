"""Every signature scheme: published vectors, our own signers, rotation, tampering, replays."""

import base64
import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from api.verifiers import (
    InvalidSignature,
    StaleTimestamp,
    airtable,
    build_verifier,
    generic,
    github,
    plain,
    stripe,
)
from common.errors import ConfigError
from common.settings import SourceSettings

# GitHub's documented example (docs: "Validating webhook deliveries").
GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_PAYLOAD = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

AIRTABLE_SECRET = base64.b64encode(b"airtable-mac-secret-bytes").decode()
OLD_SECRET, NEW_SECRET = "old-secret", "new-secret"


def test_github_published_example_verifies():
    headers = {"x-hub-signature-256": GITHUB_SIGNATURE, "x-github-delivery": "d-1"}
    verified = github.GitHubVerifier([GITHUB_SECRET]).verify(GITHUB_PAYLOAD, headers)
    assert verified.delivery_id == "d-1"


def test_github_signer_matches_the_published_example():
    headers = github.sign(GITHUB_SECRET, GITHUB_PAYLOAD, delivery_id="x")
    assert headers["X-Hub-Signature-256"] == GITHUB_SIGNATURE


def plain_event(when: datetime, event_id: str = "pEv_1") -> bytes:
    metadata = {"webhookDeliveryAttemptTimestamp": when.isoformat()}
    return orjson.dumps({"id": event_id, "type": "thread.created",
                         "payload": {"thread": {"id": "th_1"}}, "webhookMetadata": metadata})


def stripe_event(event_id: str = "evt_1") -> bytes:
    return orjson.dumps({"id": event_id, "type": "charge.succeeded", "data": {"object": {}}})


SCHEME = generic.HmacScheme(header="X-Signature", prefix="sha256=", encoding="base64",
                            timestamp_header="X-Timestamp", id_header="X-Delivery")


def signed_case(kind: str, secret: str, *, age_s: int = 0):
    """(verifier factory, body, headers, expected delivery id) for *kind*, signed with *secret*."""
    now = int(time.time()) - age_s
    if kind == "github":
        body = b'{"action":"opened"}'
        return (lambda keys: github.GitHubVerifier(keys), body,
                _lower(github.sign(secret, body, delivery_id="gh-1")), "gh-1")
    if kind == "airtable":
        body = b'{"base":{"id":"app1"},"webhook":{"id":"ach1"}}'
        return (lambda keys: airtable.AirtableVerifier(keys), body,
                _lower(airtable.sign(secret, body)), None)
    if kind == "plain":
        body = plain_event(datetime.fromtimestamp(now, UTC))
        return (lambda keys: plain.PlainVerifier(keys), body, _lower(plain.sign(secret, body)),
                "pEv_1")
    if kind == "stripe":
        body = stripe_event()
        return (lambda keys: stripe.StripeVerifier(keys), body,
                _lower(stripe.sign(secret, body, timestamp=now)), "evt_1")
    body = b'{"hello":"world"}'
    headers = {**generic.sign(secret, SCHEME, body, timestamp=now), "X-Delivery": "h-1"}
    return (lambda keys: generic.HmacVerifier(keys, SCHEME), body, _lower(headers), "h-1")


def _lower(headers):
    return {name.lower(): value for name, value in headers.items()}


KINDS = ["github", "airtable", "plain", "stripe", "hmac"]


def secrets_for(kind):
    if kind == "airtable":
        return AIRTABLE_SECRET, base64.b64encode(b"old-airtable-secret").decode()
    return NEW_SECRET, OLD_SECRET


@pytest.mark.parametrize("kind", KINDS)
def test_a_correct_signature_verifies_and_names_the_delivery(kind):
    secret, _ = secrets_for(kind)
    factory, body, headers, delivery_id = signed_case(kind, secret)
    assert factory([secret]).verify(body, headers).delivery_id == delivery_id


@pytest.mark.parametrize("kind", KINDS)
def test_any_configured_secret_verifies_for_rotation(kind):
    new, old = secrets_for(kind)
    factory, body, headers, _ = signed_case(kind, old)
    factory([new, old]).verify(body, headers)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("tamper", ["body", "signature", "missing-header", "wrong-secret"])
def test_tampered_deliveries_are_rejected(kind, tamper):
    secret, other = secrets_for(kind)
    factory, body, headers, _ = signed_case(kind, other if tamper == "wrong-secret" else secret)
    signature_header = next(name for name in headers
                            if "signature" in name or "mac" in name)
    if tamper == "body":
        body = body.replace(b"}", b" }", 1)
    elif tamper == "signature":
        headers[signature_header] = headers[signature_header][:-4] + "abcd"
    elif tamper == "missing-header":
        del headers[signature_header]
    with pytest.raises(InvalidSignature):
        factory([secret]).verify(body, headers)


@pytest.mark.parametrize("kind", ["plain", "stripe", "hmac"])
def test_signed_but_stale_deliveries_are_rejected(kind):
    secret, _ = secrets_for(kind)
    factory, body, headers, _ = signed_case(kind, secret, age_s=301)
    with pytest.raises(StaleTimestamp):
        factory([secret]).verify(body, headers)


def test_plain_reads_the_timestamp_only_after_the_mac_matches():
    body = plain_event(datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(InvalidSignature) as caught:
        plain.PlainVerifier([NEW_SECRET]).verify(body, {"plain-request-signature": "00" * 32})
    assert not isinstance(caught.value, StaleTimestamp)


def test_plain_without_the_signed_timestamp_is_rejected():
    body = b'{"id":"pEv_2","type":"x"}'
    with pytest.raises(InvalidSignature, match="webhookDeliveryAttemptTimestamp"):
        plain.PlainVerifier([NEW_SECRET]).verify(body, _lower(plain.sign(NEW_SECRET, body)))


def test_stripe_accepts_any_of_several_v1_signatures():
    body = stripe_event()
    good = stripe.sign(NEW_SECRET, body, timestamp=int(time.time()))["Stripe-Signature"]
    header = good.replace("v1=", "v1=" + "0" * 64 + ",v0=abc,v1=")
    assert stripe.StripeVerifier([NEW_SECRET]).verify(
        body, {"stripe-signature": header}).delivery_id == "evt_1"


def test_generic_hmac_hex_without_timestamp():
    scheme = generic.HmacScheme(header="X-Sig")
    body = b'{"a":1}'
    headers = _lower(generic.sign("k", scheme, body))
    assert generic.HmacVerifier(["k"], scheme).verify(body, headers).delivery_id is None


@pytest.mark.parametrize(("config", "fix"), [
    ({"kind": "airtable", "secrets": ["not base64!"]}, "macSecretBase64"),
    ({"kind": "standard-webhooks", "secrets": ["whsec_***"]}, "whsec_"),
])
def test_bad_secrets_fail_at_start_up_naming_the_key(config, fix):
    with pytest.raises(ConfigError, match=f"sources.s.secrets: .*{fix}"):
        build_verifier("s", SourceSettings.model_validate(config))


def test_hmac_kind_needs_its_header_name():
    with pytest.raises(ValueError, match="hmac_header"):
        SourceSettings.model_validate({"kind": "hmac", "secrets": ["k"]})


@pytest.mark.parametrize("kind", ["standard-webhooks", "github", "stripe", "plain", "hmac"])
def test_every_kind_builds(kind):
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef").decode()
    config = {"kind": kind, "secrets": [secret], "hmac_header": "X-Sig"}
    assert build_verifier("s", SourceSettings.model_validate(config)) is not None


@pytest.mark.parametrize("kind", ["standard-webhooks", "github", "stripe", "plain", "airtable",
                                  "hmac"])
def test_hookstream_send_signs_every_kind_so_the_ingress_accepts_it(kind):
    from common.settings import Settings
    from hookstream.sender import signed_delivery

    secret = "whsec_" + base64.b64encode(b"0123456789abcdef").decode()
    if kind == "airtable":
        secret = AIRTABLE_SECRET
    config = {"kind": kind, "secrets": [secret], "hmac_header": "X-Sig",
              "hmac_timestamp_header": "X-Ts", "hmac_id_header": "X-Id"}
    settings = Settings.model_validate({"sources": {"s": config}})
    body, headers = signed_delivery(settings, "s", b'{"id":"evt_9","type":"t"}')
    verifier = build_verifier("s", settings.sources["s"])
    verifier.verify(body, {name.lower(): value for name, value in headers.items()})

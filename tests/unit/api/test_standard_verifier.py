"""Standard Webhooks verification, checked against the official `standardwebhooks` library."""

import base64
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from api.verifiers import InvalidSignature, StaleTimestamp
from api.verifiers.standard import StandardWebhooksVerifier, sign

# The Standard Webhooks specification's published example.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def official_headers(secret: str, msg_id: str, body: bytes, when: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id, when, body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": signature}


def test_published_example_verifies():
    verifier = StandardWebhooksVerifier([SPEC_SECRET], clock=lambda: SPEC_TS)
    headers = {"webhook-id": SPEC_ID, "webhook-timestamp": str(SPEC_TS),
               "webhook-signature": SPEC_SIGNATURE}
    assert verifier.verify(SPEC_BODY, headers).delivery_id == SPEC_ID


def test_our_signer_matches_the_published_example():
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY)["webhook-signature"] == SPEC_SIGNATURE


def test_official_library_signature_verifies(demo_secret):
    body = b'{"type":"hello"}'
    headers = official_headers(demo_secret, "msg_1", body, datetime.now(UTC))
    assert StandardWebhooksVerifier([demo_secret]).verify(body, headers).delivery_id == "msg_1"


def test_any_of_several_signatures_and_secrets_rotation(demo_secret):
    old = "whsec_" + base64.b64encode(b"old-secret-old-secret").decode()
    body = b"{}"
    headers = sign(old, "msg_2", int(time.time()), body)
    headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]
    StandardWebhooksVerifier([demo_secret, old]).verify(body, headers)


@pytest.mark.parametrize("tamper", ["body", "id", "timestamp", "signature", "missing"])
def test_tampering_is_rejected(demo_secret, tamper):
    body = b'{"a":1}'
    headers = sign(demo_secret, "msg_3", int(time.time()), body)
    if tamper == "body":
        body = b'{"a":2}'
    elif tamper == "id":
        headers["webhook-id"] = "msg_4"
    elif tamper == "timestamp":
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)
    elif tamper == "signature":
        headers["webhook-signature"] = "v1," + base64.b64encode(b"x" * 32).decode()
    else:
        del headers["webhook-signature"]
    with pytest.raises(InvalidSignature):
        StandardWebhooksVerifier([demo_secret]).verify(body, headers)


def test_stale_timestamp_is_rejected_even_when_signed(demo_secret):
    when = int(time.time()) - 301
    headers = sign(demo_secret, "msg_5", when, b"{}")
    with pytest.raises(StaleTimestamp):
        StandardWebhooksVerifier([demo_secret], tolerance_s=300).verify(b"{}", headers)

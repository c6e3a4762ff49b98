import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from common.settings import StreamerSettings
from streamer.auth import ANONYMOUS, Grant, TokenVerifier, authorise
from streamer.errors import Rejection

SECRET = "unit-secret-0123456789abcdef0123456789"


def claims(**extra):
    return {"sub": "u1", "exp": int(time.time()) + 60, "topics": ["orders/#"], **extra}


def rejection(verifier, token):
    with pytest.raises(Rejection) as caught:
        verifier.verify(token)
    return caught.value.status, caught.value.code


def test_hs256_grant_carries_subject_patterns_and_expiry():
    verifier = TokenVerifier(StreamerSettings(jwt_secret=SECRET))
    grant = verifier.verify(jwt.encode(claims(), SECRET, algorithm="HS256"))
    assert grant.subject == "u1" and grant.patterns == ("orders/#",)
    assert grant.expires_at_s > time.time()
    spaced = verifier.verify(jwt.encode(claims(topics="a/+ b"), SECRET, algorithm="HS256"))
    assert spaced.patterns == ("a/+", "b")


def test_bad_tokens_are_401():
    verifier = TokenVerifier(StreamerSettings(jwt_secret=SECRET))
    assert rejection(verifier, "nope") == (401, "invalid_token")
    assert rejection(verifier, jwt.encode(claims(), "x" * 40, algorithm="HS256"))[0] == 401
    expired = jwt.encode(claims(exp=int(time.time()) - 5), SECRET, algorithm="HS256")
    assert rejection(verifier, expired) == (401, "token_expired")
    no_exp = {"sub": "u", "topics": ["a"]}
    assert rejection(verifier, jwt.encode(no_exp, SECRET, algorithm="HS256"))[0] == 401
    bad_claim = jwt.encode(claims(topics=["a/#/b"]), SECRET, algorithm="HS256")
    assert rejection(verifier, bad_claim) == (401, "invalid_token")
    unsigned = jwt.encode(claims(), None, algorithm="none")
    assert rejection(verifier, unsigned) == (401, "invalid_token")


def test_without_a_key_tokens_are_refused():
    assert rejection(TokenVerifier(StreamerSettings()), "x") == (401, "tokens_disabled")


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_public_key_algorithms(algorithm):
    private = (rsa.generate_private_key(public_exponent=65537, key_size=2048)
               if algorithm == "RS256" else ec.generate_private_key(ec.SECP256R1()))
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    verifier = TokenVerifier(StreamerSettings(jwt_algorithms=[algorithm],
                                              jwt_public_key=public_pem))
    assert verifier.verify(jwt.encode(claims(), private, algorithm=algorithm)).subject == "u1"
    hs_token = jwt.encode(claims(), "s" * 40, algorithm="HS256")
    assert rejection(verifier, hs_token)[0] == 401


def test_authorise_public_granted_and_refused():
    grant = Grant(subject="u", patterns=("orders/+/paid", "chat/#"), expires_at_s=None)
    authorise(("public/x", "orders/1/paid", "chat/a/b"), grant, ["public/#"])
    with pytest.raises(Rejection) as missing:
        authorise(("orders/1/paid",), ANONYMOUS, ["public/#"])
    assert missing.value.status == 401
    for wider in ("orders/#", "orders/+/+", "chats", "#"):
        with pytest.raises(Rejection) as forbidden:
            authorise((wider,), grant, ["public/#"])
        assert forbidden.value.status == 403

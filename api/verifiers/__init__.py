"""Signature verifiers, one module per scheme behind the `SignatureVerifier` Protocol."""

from api.verifiers.base import InvalidSignature, SignatureVerifier, StaleTimestamp, Verified
from api.verifiers.registry import build_verifier

__all__ = ["InvalidSignature", "SignatureVerifier", "StaleTimestamp", "Verified",
           "build_verifier"]

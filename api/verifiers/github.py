"""GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`` of the body; X-GitHub-Delivery."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

from api.verifiers.base import (
    Verified,
    hex_digests,
    require_header,
    require_match,
    strip_prefix,
    utf8_keys,
)

HEADER = "x-hub-signature-256"
PREFIX = "sha256="


class GitHubVerifier:
    def __init__(self, secrets: Sequence[str]) -> None:
        self._keys = utf8_keys(secrets)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Verified:
        presented = strip_prefix(require_header(headers, HEADER), PREFIX)
        require_match([presented], hex_digests(self._keys, body),
                      "X-Hub-Signature-256 does not match")
        return Verified(delivery_id=headers.get("x-github-delivery") or None)


def sign(secret: str, body: bytes, *, delivery_id: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": PREFIX + digest, "X-GitHub-Delivery": delivery_id}

"""A configurable HMAC-SHA256 scheme (``kind = "hmac"``) for senders without a standard.

The signature header (``hmac_header``), after an optional ``hmac_prefix``, holds
the hex or base64 HMAC-SHA256 of the body; with ``hmac_timestamp_header`` it is
over ``"<timestamp>.<body>"`` and the Unix timestamp must be within the
tolerance. ``hmac_id_header`` names the sender's delivery id, if it has one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from api.verifiers.base import (
    Clock,
    Freshness,
    InvalidSignature,
    Verified,
    hmac_sha256,
    require_header,
    require_match,
    utf8_keys,
)
from common.settings import SourceSettings


@dataclass(frozen=True, slots=True)
class HmacScheme:
    header: str
    prefix: str = ""
    encoding: Literal["hex", "base64"] = "hex"
    timestamp_header: str | None = None
    id_header: str | None = None

    def encode(self, digest: bytes) -> bytes:
        return digest.hex().encode() if self.encoding == "hex" else base64.b64encode(digest)

    @classmethod
    def from_settings(cls, source: SourceSettings) -> HmacScheme:
        return cls(header=source.hmac_header or "", prefix=source.hmac_prefix,
                   encoding=source.hmac_encoding, timestamp_header=source.hmac_timestamp_header,
                   id_header=source.hmac_id_header)


class HmacVerifier:
    def __init__(self, secrets: Sequence[str], scheme: HmacScheme, *, tolerance_s: int = 300,
                 clock: Clock = time.time) -> None:
        self._keys = utf8_keys(secrets)
        self._scheme = scheme
        self._freshness = Freshness(tolerance_s, clock)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Verified:
        scheme = self._scheme
        presented = self._presented(require_header(headers, scheme.header.lower()))
        signed = self._signed_content(body, headers)
        expected = [scheme.encode(hmac_sha256(key, signed)) for key in self._keys]
        require_match([presented], expected, f"{scheme.header} does not match")
        delivery_id = headers.get(scheme.id_header.lower()) if scheme.id_header else None
        return Verified(delivery_id=delivery_id or None)

    def _presented(self, value: str) -> bytes:
        prefix = self._scheme.prefix
        if not value.startswith(prefix):
            raise InvalidSignature(f"{self._scheme.header} does not start with {prefix!r}")
        raw = value[len(prefix):].strip()
        return (raw.lower() if self._scheme.encoding == "hex" else raw).encode()

    def _signed_content(self, body: bytes, headers: Mapping[str, str]) -> bytes:
        if self._scheme.timestamp_header is None:
            return body
        raw_ts = require_header(headers, self._scheme.timestamp_header.lower())
        self._freshness.check_unix(raw_ts)
        return raw_ts.encode() + b"." + body


def sign(secret: str, scheme: HmacScheme, body: bytes, *,
         timestamp: int | None = None) -> dict[str, str]:
    signed = body if scheme.timestamp_header is None else f"{timestamp}.".encode() + body
    digest = scheme.encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest())
    headers = {scheme.header: scheme.prefix + digest.decode()}
    if scheme.timestamp_header is not None:
        headers[scheme.timestamp_header] = str(timestamp)
    return headers

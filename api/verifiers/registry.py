"""Build the verifier a source's configuration asks for."""

from __future__ import annotations

from api.verifiers.base import SignatureVerifier
from api.verifiers.standard import StandardWebhooksVerifier
from common.errors import ConfigError
from common.settings import SourceSettings


def build_verifier(name: str, source: SourceSettings) -> SignatureVerifier:
    secrets = [secret.get_secret_value() for secret in source.secrets]
    try:
        if source.kind == "standard-webhooks":
            return StandardWebhooksVerifier(secrets, tolerance_s=source.tolerance_s)
    except ValueError as exc:
        raise ConfigError(f"sources.{name}.secrets: {exc}") from None
    raise ConfigError(f"sources.{name}.kind: {source.kind!r} is not supported yet")

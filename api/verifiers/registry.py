"""Build the verifier a source's configuration asks for."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from api.verifiers.airtable import AirtableVerifier, StoredSecrets
from api.verifiers.base import SignatureVerifier
from api.verifiers.generic import HmacScheme, HmacVerifier
from api.verifiers.github import GitHubVerifier
from api.verifiers.plain import PlainVerifier
from api.verifiers.standard import StandardWebhooksVerifier
from api.verifiers.stripe import StripeVerifier
from common.errors import ConfigError
from common.settings import SourceSettings

Builder = Callable[[Sequence[str], SourceSettings], SignatureVerifier]


def _hmac(secrets: Sequence[str], source: SourceSettings) -> SignatureVerifier:
    return HmacVerifier(secrets, HmacScheme.from_settings(source), tolerance_s=source.tolerance_s)


BUILDERS: dict[str, Builder] = {
    "standard-webhooks": lambda s, c: StandardWebhooksVerifier(s, tolerance_s=c.tolerance_s),
    "github": lambda s, c: GitHubVerifier(s),
    "stripe": lambda s, c: StripeVerifier(s, tolerance_s=c.tolerance_s),
    "plain": lambda s, c: PlainVerifier(s, tolerance_s=c.tolerance_s),
    "airtable": lambda s, c: AirtableVerifier(s),
    "hmac": _hmac,
}


def build_verifier(name: str, source: SourceSettings, *,
                   airtable_secrets: StoredSecrets | None = None) -> SignatureVerifier:
    secrets = [secret.get_secret_value() for secret in source.secrets]
    builder = BUILDERS.get(source.kind)
    if source.kind == "airtable" and airtable_secrets is not None:
        builder = lambda s, c: AirtableVerifier(s, stored=airtable_secrets)  # noqa: E731
    if builder is None:
        raise ConfigError(f"sources.{name}.kind: {source.kind!r} is not supported")
    try:
        return builder(secrets, source)
    except ValueError as exc:
        raise ConfigError(f"sources.{name}.secrets: {exc}") from None

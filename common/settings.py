"""Typed settings: one TOML file (``HOOKSTREAM_CONFIG``) plus ``HOOKSTREAM_*`` overrides.

Every process builds its `Settings` once, in its composition root, with
`load_settings(environ)`; nothing else reads the environment.

Environment overrides map onto the file's keys: ``HOOKSTREAM_REDIS_URL`` sets
``redis_url``, ``HOOKSTREAM_STREAMER__HEARTBEAT_S`` sets ``[streamer] heartbeat_s``,
``HOOKSTREAM_SOURCES__DEMO__SECRETS`` sets ``[sources.demo] secrets``. Values that
start with ``[`` or ``{`` are read as JSON; list settings also take a comma list.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from common.errors import ConfigError, InvalidTopic
from common.topics import validate_pattern

ENV_PREFIX = "HOOKSTREAM_"
CONFIG_ENV = "HOOKSTREAM_CONFIG"
SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

SourceKind = Literal["standard-webhooks", "airtable", "plain", "github", "stripe", "hmac"]


def _split_csv(value: Any) -> Any:
    """Let list settings come from the environment as ``a,b,c``."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CsvList = Annotated[list[str], BeforeValidator(_split_csv)]
SecretList = Annotated[list[SecretStr], BeforeValidator(_split_csv)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSettings(_Section):
    """One webhook sender, ``[sources.NAME]``.

    ``kind`` picks the signature scheme; ``secrets`` lists every secret accepted
    (several during a rotation). ``topic``/``type`` are templates over payload
    fields; deliveries whose rendered type matches a ``drop_types`` glob are
    acknowledged and dropped. The ``hmac_*`` keys configure ``kind = "hmac"``.
    """

    kind: SourceKind
    secrets: SecretList = Field(min_length=1)
    topic: str = "webhooks/{source}"
    type: str = "{type|webhook.received}"
    tolerance_s: int = Field(default=300, ge=1, le=86_400)
    drop_types: CsvList = Field(default_factory=list)
    dedupe_window_s: int | None = Field(default=None, ge=1, le=30 * 86_400)
    rate_limit_per_s: int | None = Field(default=None, ge=1, le=1_000_000)
    hmac_header: str | None = None
    hmac_prefix: str = ""
    hmac_encoding: Literal["hex", "base64"] = "hex"
    hmac_timestamp_header: str | None = None
    hmac_id_header: str | None = None

    @model_validator(mode="after")
    def _hmac_needs_a_header(self) -> SourceSettings:
        if self.kind == "hmac" and not self.hmac_header:
            raise ValueError("kind 'hmac' needs hmac_header (the signature header's name)")
        return self


class EventLogSettings(_Section):
    """The Redis Stream every event is appended to, ``[events]``."""

    stream_key: str = "hookstream:{events}:log"
    max_len: int = Field(default=100_000, ge=100)
    max_age_s: int = Field(default=86_400, ge=1)
    dedupe_window_s: int = Field(default=3_600, ge=1)


class IngressSettings(_Section):
    """The webhook ingress, ``[ingress]``."""

    max_body_bytes: int = Field(default=1_048_576, ge=1, le=64 * 1_048_576)
    publish_keys: SecretList = Field(default_factory=list)
    enqueue_timeout_s: float = Field(default=2.0, gt=0, le=30)
    retry_after_s: int = Field(default=5, ge=1)
    dedupe_window_s: int = Field(default=86_400, ge=1, le=30 * 86_400)
    rate_limit_per_s: int | None = Field(default=None, ge=1, le=1_000_000)


class StreamerSettings(_Section):
    """The SSE streamer, ``[streamer]``."""

    public_topics: CsvList = Field(default_factory=list)
    heartbeat_s: float = Field(default=15.0, gt=0, le=300)
    retry_ms: int = Field(default=3_000, ge=0)
    max_connections: int = Field(default=50_000, ge=1)
    buffer_events: int = Field(default=1_000, ge=1)
    buffer_bytes: int = Field(default=1_048_576, ge=1_024)
    cors_origins: CsvList = Field(default_factory=list)

    @field_validator("public_topics")
    @classmethod
    def _patterns_are_valid(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                validate_pattern(pattern)
            except InvalidTopic as exc:
                raise ValueError(str(exc)) from None
        return patterns


class WorkerSettings(_Section):
    """Dramatiq workers, ``[workers]``."""

    namespace: str = "hookstream"
    queue: str = "deliveries"
    max_retries: int = Field(default=10, ge=0)
    time_limit_s: float = Field(default=60.0, gt=0)


class Settings(_Section):
    """Everything a hookstream process can be told."""

    redis_url: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"
    events: EventLogSettings = Field(default_factory=EventLogSettings)
    ingress: IngressSettings = Field(default_factory=IngressSettings)
    streamer: StreamerSettings = Field(default_factory=StreamerSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    sources: dict[str, SourceSettings] = Field(default_factory=dict)

    @field_validator("sources")
    @classmethod
    def _source_names_are_slugs(cls, sources: dict[str, SourceSettings]) -> Any:
        for name in sources:
            if not SOURCE_NAME.match(name):
                raise ValueError(f"source name {name!r} must match {SOURCE_NAME.pattern}")
        return sources

    def require_redis_url(self) -> str:
        if not self.redis_url:
            raise ConfigError(
                "redis_url is not set: set HOOKSTREAM_REDIS_URL=redis://HOST:6379/0 "
                "or redis_url in the config file (`hookstream dev` starts an embedded server)"
            )
        return self.redis_url


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``HOOKSTREAM_CONFIG`` and ``HOOKSTREAM_*`` in *environ*."""
    env = os.environ if environ is None else environ
    data = _read_toml(env.get(CONFIG_ENV))
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and key != CONFIG_ENV:
            _apply_override(data, key, value)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, env.get(CONFIG_ENV))) from None


def _read_toml(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{CONFIG_ENV}={path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{CONFIG_ENV}={path}: not valid TOML ({exc})") from None


def _apply_override(data: dict[str, Any], key: str, raw: str) -> None:
    path = key[len(ENV_PREFIX) :].lower().split("__")
    node = data
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{key}: {'.'.join(path)} is not a section")
        node = child
    node[path[-1]] = _parse_env_value(key, raw)


def _parse_env_value(key: str, raw: str) -> Any:
    if raw[:1] in "[{":
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{key}: looks like JSON but does not parse ({exc.msg})") from None
    return raw


def _describe(exc: ValidationError, config_path: str | None) -> str:
    where = config_path or "no config file"
    lines = [f"invalid configuration ({where}):"]
    for error in exc.errors():
        dotted = ".".join(str(part) for part in error["loc"])
        env_name = ENV_PREFIX + "__".join(str(part) for part in error["loc"]).upper()
        problem = "unknown setting" if error["type"] == "extra_forbidden" else error["msg"]
        lines.append(f"  {dotted}: {problem} (set it in the file, or as {env_name})")
    return "\n".join(lines)

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
    ValidationInfo,
    field_validator,
    model_validator,
)

from common.errors import ConfigError, InvalidTopic
from common.redisurls import validate_url
from common.topics import validate_pattern

ENV_PREFIX = "HOOKSTREAM_"
CONFIG_ENV = "HOOKSTREAM_CONFIG"
SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

JWT_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "ES256")
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
    secrets: SecretList = Field(default_factory=list, validate_default=True)
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

    @field_validator("secrets")
    @classmethod
    def _secrets_are_given(cls, secrets: list[SecretStr], info: ValidationInfo) -> Any:
        # An airtable source may rely on the secrets `hookstream airtable webhooks create`
        # stores in Redis alone; every other kind needs at least one configured secret.
        if not secrets and info.data.get("kind") != "airtable":
            raise ValueError("at least one secret is required")
        return secrets

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
    # Writes followed by an effect outside Redis (POST /publish answering 202, a SQL
    # reader deleting its change-log rows) first wait this long for the primary's
    # replicas; see common/replicas.py. 0: never wait.
    replica_ack_timeout_ms: int = Field(default=500, ge=0, le=10_000)
    replica_grace_s: float = Field(default=3.0, ge=0, le=60)


class IngressSettings(_Section):
    """The webhook ingress, ``[ingress]``."""

    max_body_bytes: int = Field(default=1_048_576, ge=1, le=64 * 1_048_576)
    publish_keys: SecretList = Field(default_factory=list)
    enqueue_timeout_s: float = Field(default=2.0, gt=0, le=30)
    retry_after_s: int = Field(default=5, ge=1)
    dedupe_window_s: int = Field(default=86_400, ge=1, le=30 * 86_400)
    rate_limit_per_s: int | None = Field(default=None, ge=1, le=1_000_000)
    replica_ack_timeout_ms: int = Field(default=500, ge=0, le=10_000)
    replica_grace_s: float = Field(default=3.0, ge=0, le=60)


class StreamerSettings(_Section):
    """The SSE streamer, ``[streamer]``."""

    public_topics: CsvList = Field(default_factory=list)
    heartbeat_s: float = Field(default=15.0, gt=0, le=300)
    retry_ms: int = Field(default=3_000, ge=0)
    max_connections: int = Field(default=50_000, ge=1)
    max_connections_per_subject: int = Field(default=100, ge=1)
    buffer_events: int = Field(default=1_000, ge=1)
    buffer_bytes: int = Field(default=1_048_576, ge=1_024)
    cors_origins: CsvList = Field(default_factory=list)
    jwt_algorithms: CsvList = Field(default_factory=lambda: ["HS256"])
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_claim: str = Field(default="topics", min_length=1)
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    cookie_name: str = Field(default="hookstream_token", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    replay_batch: int = Field(default=500, ge=1, le=10_000)
    drain_window_s: float = Field(default=3.0, ge=0, le=600)
    retry_after_s: int = Field(default=5, ge=1)

    @field_validator("public_topics")
    @classmethod
    def _patterns_are_valid(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                validate_pattern(pattern)
            except InvalidTopic as exc:
                raise ValueError(str(exc)) from None
        return patterns

    @field_validator("jwt_algorithms")
    @classmethod
    def _algorithms_are_supported(cls, algorithms: list[str]) -> list[str]:
        unknown = set(algorithms) - set(JWT_ALGORITHMS)
        if unknown or not algorithms:
            raise ValueError(f"use one or more of {', '.join(JWT_ALGORITHMS)}")
        return algorithms

    @model_validator(mode="after")
    def _jwt_keys_match_algorithms(self) -> StreamerSettings:
        symmetric = any(name.startswith("HS") for name in self.jwt_algorithms)
        asymmetric = any(not name.startswith("HS") for name in self.jwt_algorithms)
        if symmetric and asymmetric:
            raise ValueError("jwt_algorithms: do not mix HS* with RS*/ES* (one key kind)")
        if self.jwt_secret is not None and asymmetric:
            raise ValueError("jwt_secret is for HS256; for RS256/ES256 set jwt_public_key")
        if self.jwt_public_key is not None and symmetric:
            raise ValueError("jwt_public_key is for RS256/ES256; set jwt_algorithms to match")
        return self


KEY_PART = SOURCE_NAME.pattern


class ActorSettings(_Section):
    """Retry and time-limit policy of one actor, ``[workers.actors.NAME]``; unset = [workers]."""

    max_retries: int | None = Field(default=None, ge=0, le=1_000)
    time_limit_s: float | None = Field(default=None, gt=0)
    min_backoff_s: float | None = Field(default=None, gt=0)
    max_backoff_s: float | None = Field(default=None, gt=0, le=7 * 86_400)


class ScheduleSettings(_Section):
    """How often the scheduler runs each periodic job, in seconds, ``[workers.schedule]``."""

    janitor: float = Field(default=1.0, gt=0, le=60)
    trim_event_log: float = Field(default=300.0, gt=0)
    # Airtable expires a webhook 7 days after its last refresh; pings may be lost.
    refresh_airtable_webhooks: float = Field(default=86_400.0, gt=0, le=6 * 86_400)
    poll_airtable_webhooks: float = Field(default=60.0, gt=0)


class WorkerSettings(_Section):
    """Dramatiq workers and the scheduler, ``[workers]``."""

    namespace: str = Field(default="hookstream", pattern=KEY_PART)
    queue: str = Field(default="deliveries", pattern=KEY_PART)
    periodic_queue: str = Field(default="periodic", pattern=KEY_PART)
    max_retries: int = Field(default=10, ge=0, le=1_000)
    time_limit_s: float = Field(default=60.0, gt=0)
    min_backoff_s: float = Field(default=1.0, gt=0)
    max_backoff_s: float = Field(default=300.0, gt=0, le=7 * 86_400)
    actors: dict[str, ActorSettings] = Field(default_factory=dict)
    heartbeat_timeout_s: float = Field(default=10.0, ge=1, le=3_600)
    heartbeat_interval_s: float = Field(default=2.5, gt=0)
    wake_timeout_s: float = Field(default=30.0, gt=0, le=300)
    dead_letter_ttl_s: int = Field(default=7 * 86_400, ge=60)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    scheduler_lock_ttl_s: float = Field(default=10.0, ge=1, le=300)
    metrics_port: int | None = Field(default=None, ge=1, le=65_535)

    @property
    def queues(self) -> list[str]:
        """Every queue the actors use: deliveries, then periodic jobs."""
        return [self.queue, self.periodic_queue]

    @model_validator(mode="after")
    def _heartbeats_beat_the_timeout(self) -> WorkerSettings:
        if self.heartbeat_interval_s * 2 > self.heartbeat_timeout_s:
            raise ValueError("heartbeat_interval_s must be at most half of heartbeat_timeout_s, "
                             "or live workers are taken for dead")
        if self.min_backoff_s > self.max_backoff_s:
            raise ValueError("min_backoff_s must not exceed max_backoff_s")
        for name, actor in self.actors.items():
            low = self.min_backoff_s if actor.min_backoff_s is None else actor.min_backoff_s
            high = self.max_backoff_s if actor.max_backoff_s is None else actor.max_backoff_s
            if low > high:
                raise ValueError(f"actors.{name}: min_backoff_s ({low}) exceeds "
                                 f"max_backoff_s ({high})")
        return self


class AirtableSettings(_Section):
    """The Airtable domain, ``[airtable]``: API, request budgets, read cache.

    ``cache_ttl_s`` is the default time a cached read lives (the change events
    of a table invalidate it sooner); ``table_ttl_s`` overrides it per table id
    or name, 0 = never cached (live data, as seed 001 does for sessions).
    """

    api_url: str = Field(default="https://api.airtable.com", pattern=r"^https?://")
    token: SecretStr | None = None
    cache_ttl_s: int = Field(default=300, ge=0, le=7 * 86_400)
    table_ttl_s: dict[str, int] = Field(default_factory=dict)
    base_rate_per_s: float = Field(default=5.0, gt=0, le=1_000)
    token_rate_per_s: float = Field(default=50.0, gt=0, le=10_000)
    pause_after_429_s: float = Field(default=30.0, ge=0, le=3_600)
    request_timeout_s: float = Field(default=30.0, gt=0, le=300)

    def ttl_for(self, table: str) -> int:
        return self.table_ttl_s.get(table, self.cache_ttl_s)

    def require_token(self) -> SecretStr:
        if self.token is None:
            raise ConfigError("airtable.token is not set: set HOOKSTREAM_AIRTABLE__TOKEN "
                              "or [airtable] token in the config file")
        return self.token


class DashboardSettings(_Section):
    """The operator dashboard and the figures every process reports for it, ``[dashboard]``.

    ``admin_token`` opens ``GET /dashboard/stream`` on the streamer (unset: the
    dashboard's data is off). Every process writes its figures to Redis every
    ``report_interval_s`` (`common.telemetry`); ``reporting = false`` stops that.
    """

    admin_token: SecretStr | None = None
    report_interval_s: float = Field(default=1.0, ge=0.1, le=60)
    reporting: bool = True
    max_labels: int = Field(default=20, ge=1, le=1_000)

    @field_validator("admin_token")
    @classmethod
    def _token_is_long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < 16:
            raise ValueError("use at least 16 characters (e.g. `openssl rand -hex 24`)")
        return token


WatchMode = Literal["push", "poll", "watermark"]


class WatchSettings(_Section):
    """One SQL change stream, ``[watches.NAME]``: a table or a query, diffed into row events."""

    url: SecretStr
    table: str | None = None
    query: str | None = None
    key: CsvList = Field(min_length=1)
    tables: CsvList = Field(default_factory=list)
    topic: str = Field(min_length=1)
    mode: WatchMode = "push"
    interval_s: float = Field(default=1.0, gt=0, le=3_600)
    debounce_s: float = Field(default=0.05, ge=0, le=60)
    changelog_poll_s: float = Field(default=0.05, gt=0, le=60)
    watermark: str | None = None
    columns: CsvList | None = None

    @model_validator(mode="after")
    def _table_or_query(self) -> WatchSettings:
        if (self.table is None) == (self.query is None):
            raise ValueError("set exactly one of table or query")
        if self.query is not None and not self.tables:
            raise ValueError("a query watch names the tables it reads in tables")
        if self.mode == "watermark" and not self.watermark:
            raise ValueError("mode watermark needs the watermark column")
        return self


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
    airtable: AirtableSettings = Field(default_factory=AirtableSettings)
    watches: dict[str, WatchSettings] = Field(default_factory=dict)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)

    @field_validator("redis_url")
    @classmethod
    def _redis_url_is_usable(cls, url: str | None) -> str | None:
        try:
            return url and validate_url(url)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _replica_wait_fits_the_socket_timeout(self) -> Settings:
        # The ingress's redis-py client times out after enqueue_timeout_s: a longer WAIT
        # would always end as a timeout (a 503), never as a confirmation.
        wait_ms, socket_s = self.events.replica_ack_timeout_ms, self.ingress.enqueue_timeout_s
        if wait_ms >= socket_s * 1000:
            raise ValueError(f"events.replica_ack_timeout_ms ({wait_ms}) must be below "
                             f"ingress.enqueue_timeout_s ({socket_s} s)")
        return self

    @field_validator("sources")
    @classmethod
    def _source_names_are_slugs(cls, sources: dict[str, SourceSettings]) -> Any:
        for name in sources:
            if not SOURCE_NAME.match(name):
                raise ValueError(f"source name {name!r} must match {SOURCE_NAME.pattern}")
        return sources

    @field_validator("watches")
    @classmethod
    def _watch_names_are_slugs(cls, watches: dict[str, WatchSettings]) -> Any:
        for name in watches:
            if not SOURCE_NAME.match(name):
                raise ValueError(f"watch name {name!r} must match {SOURCE_NAME.pattern}")
        return watches

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

"""Shared fixtures: a real Valkey server started by the test session on a random port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from api.verifiers.standard import new_secret
from common.redis import connect
from common.settings import Settings
from hookstream.embedded import EmbeddedRedis


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("valkey"), durable=False).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> str:
    client = connect(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = connect(redis_url)
    yield client
    client.close()


@pytest.fixture
def demo_secret() -> str:
    return new_secret()


@pytest.fixture
def make_settings(demo_secret: str):
    """Build `Settings` from explicit values, never the ambient environment."""

    def build(**overrides: Any) -> Settings:
        data: dict[str, Any] = {
            "log_format": "json",
            "streamer": {"public_topics": ["webhooks/#", "public/#"], "heartbeat_s": 15},
            "ingress": {"publish_keys": ["pub-key-1"], "max_body_bytes": 4096},
            "sources": {"demo": {"kind": "standard-webhooks", "secrets": [demo_secret]}},
        }
        data.update(overrides)
        return Settings.model_validate(data)

    return build


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

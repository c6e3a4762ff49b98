"""Redis URLs: server URLs pass through, Sentinel URLs are parsed, bad ones say what is wrong."""

import pytest
import redis
import redis.asyncio.sentinel
import redis.sentinel

from common.errors import ConfigError
from common.redis import FixedPrimary, connect, connect_async, primary_locator
from common.redisurls import Endpoint, SentinelTarget, parse_sentinel_url, validate_url
from common.sentinel import SentinelPrimary, primary_watch
from common.settings import load_settings

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("url", "expected"), [
    ("redis+sentinel://s1:26380/main",
     SentinelTarget(sentinels=(("s1", 26380),), service_name="main")),
    ("redis+sentinel://s1,s2:1,s3:2/main/3",
     SentinelTarget(sentinels=(("s1", 26379), ("s2", 1), ("s3", 2)), service_name="main", db=3)),
    ("redis+sentinel://:p%40ss@s1:26379/main",
     SentinelTarget(sentinels=(("s1", 26379),), service_name="main", password="p@ss")),
    ("redis+sentinel://app:pw@s1:26379/main/",
     SentinelTarget(sentinels=(("s1", 26379),), service_name="main", username="app",
                    password="pw")),
    ("REDIS+SENTINEL://[::1]:5000,[::2]/main",
     SentinelTarget(sentinels=(("::1", 5000), ("::2", 26379)), service_name="main")),
], ids=["one-sentinel", "three-with-db", "password", "user-and-password", "ipv6"])
def test_a_sentinel_url_is_parsed(url, expected):
    assert parse_sentinel_url(url) == expected
    assert validate_url(url) == url


@pytest.mark.parametrize(("url", "problem"), [
    ("redis+sentinel://s1:26379", "name the service"),
    ("redis+sentinel://s1:26379/", "name the service"),
    ("redis+sentinel://s1:26379/main/0/extra", "name the service"),
    ("redis+sentinel://s1:26379/main/zero", "database must be a number"),
    ("redis+sentinel:///main", "empty sentinel host"),
    ("redis+sentinel://s1,,s2/main", "empty sentinel host"),
    ("redis+sentinel://s1:port/main", "bad port"),
    ("redis+sentinel://s1:70000/main", "bad port"),
    ("redis+sentinel://s1/main?ssl=1", "query strings"),
    ("http://s1:6379/0", "scheme must be one of"),
    ("localhost:6379", "scheme must be one of"),
], ids=["no-service", "empty-service", "extra-segment", "bad-db", "no-host", "empty-host",
        "port-not-a-number", "port-out-of-range", "query", "http", "no-scheme"])
def test_a_bad_url_says_what_is_wrong(url, problem):
    with pytest.raises(ConfigError, match=problem) as raised:
        validate_url(url)
    assert "redis+sentinel://[:password@]host:port" in str(raised.value) or \
        "scheme" in problem


def test_the_password_never_appears_in_the_error():
    with pytest.raises(ConfigError) as raised:
        validate_url("redis+sentinel://:hunter2@s1:26379/main/x")
    assert "hunter2" not in str(raised.value)
    assert ":**********@s1" in str(raised.value)


def test_a_bad_url_in_the_settings_names_the_key():
    with pytest.raises(ConfigError, match="redis_url") as raised:
        load_settings({"HOOKSTREAM_REDIS_URL": "redis+sentinel://:hunter2@s1:26379"})
    assert "name the service" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_connect_gives_a_sentinel_managed_client_for_a_sentinel_url():
    url = "redis+sentinel://:pw@127.0.0.1:26380,localhost/main/2"
    client = connect(url, socket_timeout_s=1.5)
    primary_watch(url).stop()
    pool = client.connection_pool
    assert isinstance(pool, redis.sentinel.SentinelConnectionPool)
    assert pool.service_name == "main"
    assert pool.connection_kwargs["db"] == 2
    assert pool.connection_kwargs["password"] == "pw"
    assert pool.connection_kwargs["socket_timeout"] == 1.5
    sentinels = pool.sentinel_manager.sentinels
    assert [s.connection_pool.connection_kwargs["port"] for s in sentinels] == [26380, 26379]
    assert all(s.connection_pool.connection_kwargs.get("password") is None for s in sentinels)


async def test_connect_async_gives_a_sentinel_managed_client_for_a_sentinel_url():
    url = "redis+sentinel://127.0.0.1:26380/main"
    client = connect_async(url)
    primary_watch(url).stop()
    assert isinstance(client.connection_pool, redis.asyncio.sentinel.SentinelConnectionPool)
    assert client.connection_pool.service_name == "main"
    await client.aclose()


async def test_a_server_url_locates_itself():
    locator = primary_locator("rediss://app:pw@cache.internal:6380/4")
    assert isinstance(locator, FixedPrimary)
    assert await locator.locate() == Endpoint(host="cache.internal", port=6380, tls=True, db=4,
                                              username="app", password="pw")
    unix = await primary_locator("unix:///run/valkey.sock?db=1").locate()
    assert (unix.path, unix.db, unix.address) == ("/run/valkey.sock", 1, "/run/valkey.sock")


def test_a_sentinel_url_is_located_by_the_sentinels():
    assert isinstance(primary_locator("redis+sentinel://s1/main"), SentinelPrimary)

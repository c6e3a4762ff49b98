from pathlib import Path

import pytest

from common.errors import ConfigError
from common.settings import load_settings


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "hookstream.toml"
    path.write_text(text)
    return str(path)


def test_defaults_without_a_file():
    settings = load_settings({})
    assert settings.redis_url is None
    assert settings.streamer.heartbeat_s == 15
    assert settings.sources == {}


def test_file_and_environment_overrides(tmp_path):
    config = write(tmp_path, """
redis_url = "redis://file:6379/0"
[streamer]
heartbeat_s = 5
[sources.shop]
kind = "standard-webhooks"
secrets = ["whsec_AAAA"]
""")
    settings = load_settings({
        "HOOKSTREAM_CONFIG": config,
        "HOOKSTREAM_REDIS_URL": "redis://env:6379/1",
        "HOOKSTREAM_STREAMER__PUBLIC_TOPICS": "a/#,b/+",
        "HOOKSTREAM_SOURCES__SHOP__SECRETS": '["whsec_BBBB", "whsec_CCCC"]',
    })
    assert settings.redis_url == "redis://env:6379/1"
    assert settings.streamer.heartbeat_s == 5
    assert settings.streamer.public_topics == ["a/#", "b/+"]
    assert [s.get_secret_value() for s in settings.sources["shop"].secrets] == [
        "whsec_BBBB", "whsec_CCCC"]


def test_secrets_are_hidden_in_repr(tmp_path):
    settings = load_settings({"HOOKSTREAM_SOURCES__X__KIND": "standard-webhooks",
                              "HOOKSTREAM_SOURCES__X__SECRETS": "whsec_topsecret"})
    assert "topsecret" not in repr(settings)
    assert "topsecret" not in str(settings.model_dump())


@pytest.mark.parametrize(("environ", "named"), [
    ({"HOOKSTREAM_STREAMER__HEARTBEAT_S": "soon"}, "streamer.heartbeat_s"),
    ({"HOOKSTREAM_STREAMER__HEARTBAET_S": "5"}, "streamer.heartbaet_s: unknown setting"),
    ({"HOOKSTREAM_SOURCES__X__KIND": "carrier-pigeon",
      "HOOKSTREAM_SOURCES__X__SECRETS": "s"}, "sources.x.kind"),
    ({"HOOKSTREAM_SOURCES__X__KIND": "standard-webhooks"}, "sources.x.secrets"),
    ({"HOOKSTREAM_STREAMER__PUBLIC_TOPICS": "a/#/b"}, "streamer.public_topics"),
], ids=["bad-number", "typo", "unknown-kind", "missing-secret", "bad-pattern"])
def test_bad_config_names_the_key(environ, named):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    assert named in str(caught.value)


def test_missing_file_and_bad_toml_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_settings({"HOOKSTREAM_CONFIG": str(tmp_path / "missing.toml")})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({"HOOKSTREAM_CONFIG": write(tmp_path, "[broken")})


def test_require_redis_url_explains_the_fix():
    with pytest.raises(ConfigError, match="HOOKSTREAM_REDIS_URL"):
        load_settings({}).require_redis_url()


def test_a_replica_wait_longer_than_the_socket_timeout_is_refused() -> None:
    with pytest.raises(ConfigError, match="replica_ack_timeout_ms"):
        load_settings({"HOOKSTREAM_EVENTS__REPLICA_ACK_TIMEOUT_MS": "2500",
                       "HOOKSTREAM_INGRESS__ENQUEUE_TIMEOUT_S": "2"})
    assert load_settings({"HOOKSTREAM_EVENTS__REPLICA_ACK_TIMEOUT_MS": "1500"}) \
        .events.replica_ack_timeout_ms == 1500

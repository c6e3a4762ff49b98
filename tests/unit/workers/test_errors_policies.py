"""Failure classification at the actor boundary, and per-actor policies from settings."""

import httpx
import pytest
import redis

from common.errors import ConfigError, EventLogUnavailable, TemplateError
from common.settings import load_settings
from workers.errors import Permanent, RateLimited, Transient, classified, classify, retry_after_s
from workers.policies import actor_options, check_actor_names, policy_for


def status_error(status, headers=None):
    request = httpx.Request("GET", "https://api.example.com/v0/things?token=secret")
    response = httpx.Response(status, headers=headers, request=request)
    return httpx.HTTPStatusError("failed", request=request, response=response)


@pytest.mark.parametrize(("exc", "kind"), [
    (status_error(500), Transient),
    (status_error(503), Transient),
    (status_error(408), Transient),
    (status_error(429, {"retry-after": "7"}), RateLimited),
    (status_error(404), Permanent),
    (status_error(400), Permanent),
    (status_error(401), Permanent),
    (httpx.ConnectError("refused"), Transient),
    (httpx.ReadTimeout("slow"), Transient),
    (redis.ConnectionError("down"), Transient),
    (redis.ResponseError("LOADING dataset"), Transient),
    (redis.ResponseError("WRONGTYPE"), Permanent),
    (EventLogUnavailable("append failed"), Transient),
    (TemplateError("no field"), Permanent),
    (ValueError("bad json"), Permanent),
], ids=["500", "503", "408", "429", "404", "400", "401", "connect", "timeout", "redis-down",
        "redis-loading", "redis-wrongtype", "event-log", "template", "validation"])
def test_failures_are_classified(exc, kind):
    assert type(classify(exc)) is kind


def test_unknown_errors_are_left_to_default_retries():
    assert classify(RuntimeError("bug")) is None


def test_429_waits_what_the_sender_asked_plus_a_little_jitter():
    limited = classify(status_error(429, {"retry-after": "7"}))
    assert isinstance(limited, RateLimited)
    assert 7_000 <= limited.delay <= 7_700
    assert retry_after_s(status_error(429).response) == 30.0


def test_status_errors_never_carry_the_query_string():
    assert "secret" not in str(classify(status_error(404)))


def test_classified_translates_at_the_boundary_and_keeps_the_cause():
    @classified
    def fails():
        raise status_error(404)

    with pytest.raises(Permanent) as caught:
        fails()
    assert isinstance(caught.value.__cause__, httpx.HTTPStatusError)


def test_actor_policy_overrides_the_workers_defaults():
    settings = load_settings({"HOOKSTREAM_WORKERS__ACTORS": '{"slow": {"time_limit_s": 300}}',
                              "HOOKSTREAM_WORKERS__MAX_RETRIES": "3"}).workers
    assert policy_for(settings, "slow").time_limit_s == 300
    assert policy_for(settings, "slow").max_retries == 3
    options = actor_options(settings, "fast")
    assert (options["time_limit"], options["max_retries"], options["throws"]) == (
        60_000, 3, (Permanent,))


def test_actor_settings_must_name_a_real_actor_and_a_sane_backoff():
    settings = load_settings({"HOOKSTREAM_WORKERS__ACTORS": '{"nope": {"max_retries": 1}}'}).workers
    with pytest.raises(ConfigError, match=r"workers\.actors\.nope: no such actor"):
        check_actor_names(settings, ["process_delivery"])
    with pytest.raises(ConfigError, match="min_backoff_s"):  # at load: check-config sees it
        load_settings({"HOOKSTREAM_WORKERS__ACTORS":
                       '{"nope": {"min_backoff_s": 9, "max_backoff_s": 1}}'})


def test_heartbeat_interval_must_fit_the_timeout_twice():
    with pytest.raises(ConfigError, match="heartbeat_interval_s"):
        load_settings({"HOOKSTREAM_WORKERS__HEARTBEAT_TIMEOUT_S": "4",
                       "HOOKSTREAM_WORKERS__HEARTBEAT_INTERVAL_S": "3"})


def test_unknown_periodic_job_names_its_key():
    with pytest.raises(ConfigError, match=r"workers\.schedule\.nope"):
        load_settings({"HOOKSTREAM_WORKERS__SCHEDULE__NOPE": "5"})

"""The click command line, through click's CliRunner with an explicit environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from dramatiq.message import Message

from hookstream.commands import COMMANDS, cli
from hookstream.commands.context import CliContext
from hookstream.devconfig import demo_config_text
from hookstream.embedded import free_port

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("redis", "dramatiq", "workers", "rich", "pydantic", "httpx", "common.settings")


def own_environ():
    return {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}


@pytest.fixture(autouse=True)
def environ_untouched():
    before = own_environ()
    yield
    assert own_environ() == before, "a command wrote to os.environ"


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "hookstream.toml"
    path.write_text(demo_config_text())
    return path


def run(args, env=None, *, state_dir=None):
    obj = CliContext(env or {}, state_dir=state_dir or Path("/nonexistent"))
    return CliRunner().invoke(cli, args, obj=obj, prog_name="hookstream")


def every_command_path():
    paths = [[name] for name in COMMANDS]
    paths += [["dlq", action] for action in ("list", "show", "replay", "purge")]
    return [[], *paths]


@pytest.mark.parametrize("path", every_command_path(), ids=" ".join)
def test_every_group_and_command_has_help(path):
    result = run([*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: {' '.join(['hookstream', *path])} ")


def test_help_lists_every_command_and_imports_nothing_heavy():
    code = ("import sys; from hookstream.commands import main; main(['--help']); "
            f"print([m for m in sys.modules if m.startswith({HEAVY!r})])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    for name in COMMANDS:
        assert f"  {name}  " in done.stdout
    assert done.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize(("args", "problem"), [
    (["nope"], "No such command 'nope'"),
    (["worker", "--processes", "0"], "0 is not in the range x>=1"),
    (["worker", "--threads", "many"], "'many' is not a valid integer"),
    (["dev", "--ingress-port", "70000"], "70000 is not in the range 1<=x<=65535"),
    (["send", "demo", "{bad"], "the body is not valid JSON"),
    (["send", "demo"], "Missing argument 'JSON'"),
    (["dlq", "replay"], "give an id or --all (not both)"),
    (["dlq", "purge", "abcdef123", "--all"], "give an id or --all (not both)"),
    (["dlq", "replay", "abcdef123", "--queue", "deliveries"], "--queue goes with --all"),
    (["--config", "/no/such.toml", "check-config"], "'/no/such.toml' does not exist"),
])
def test_bad_input_is_a_usage_error(args, problem):
    result = run(args)
    assert result.exit_code == 2
    assert "Usage: hookstream" in result.stderr
    assert problem in result.stderr


def test_check_config_lists_the_sources(config):
    result = run(["check-config"], {"HOOKSTREAM_CONFIG": str(config)})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "configuration OK: 3 source(s): airtable, demo, plain"
    assert lines[1].split() == ["SOURCE", "KIND", "TOPIC", "TYPE", "SECRETS"]
    assert lines[2].split() == ["airtable", "airtable", "webhooks/{source}",
                                "{type|webhook.received}", "0"]
    assert lines[3].split() == ["demo", "standard-webhooks", "webhooks/{source}",
                                "{type|webhook.received}", "1"]
    assert lines[4].split() == ["plain", "plain", "plain/thread/{payload.thread.id}",
                                "{type|webhook.received}", "1"]
    assert "redis_url not set" in lines[5]
    assert "whsec_" not in result.output  # secrets are counted, never shown


def test_check_config_takes_the_file_from_the_option(config):
    result = run(["--config", str(config), "check-config"])
    assert result.exit_code == 0
    assert "3 source(s): airtable, demo, plain" in result.stdout


@pytest.mark.parametrize(("text", "problem"), [
    ("[sources.demo\n", "not valid TOML"),
    ("[streamer]\nheartbeat_s = 'often'\n",
     "streamer.heartbeat_s: Input should be a valid number"),
    ("[sources.demo]\nkind = 'carrier-pigeon'\nsecrets = ['s']\n", "sources.demo.kind"),
])
def test_check_config_on_a_bad_file_names_the_problem(tmp_path, text, problem):
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    result = run(["check-config"], {"HOOKSTREAM_CONFIG": str(bad)})
    assert result.exit_code == 2
    assert result.stderr.startswith("hookstream: ")
    assert problem in result.stderr
    assert "Traceback" not in result.output


def test_a_bad_environment_override_is_exit_2(config):
    env = {"HOOKSTREAM_CONFIG": str(config), "HOOKSTREAM_WORKERS__NAMESPACE": "has space"}
    result = run(["check-config"], env)
    assert result.exit_code == 2
    assert "HOOKSTREAM_WORKERS__NAMESPACE" in result.stderr


def test_operating_commands_fall_back_to_the_dev_config(tmp_path):
    state_dir = tmp_path / ".hookstream"
    state_dir.mkdir()
    (state_dir / "dev.toml").write_text(demo_config_text())
    context = CliContext({"PATH": "/bin"}, state_dir=state_dir)
    assert context.env["HOOKSTREAM_CONFIG"] == str(state_dir / "dev.toml")
    assert "HOOKSTREAM_CONFIG" not in context.environ  # what `hookstream dev` builds on
    assert not context.env_is_inherited
    assert context.settings is context.settings  # loaded once
    assert "demo" in context.settings.sources
    named = CliContext({"HOOKSTREAM_CONFIG": "mine.toml"}, state_dir=state_dir)
    assert named.env["HOOKSTREAM_CONFIG"] == "mine.toml" and named.env_is_inherited


def test_send_to_a_closed_port_is_a_clear_failure(config):
    url = f"http://127.0.0.1:{free_port()}"
    result = run(["send", "demo", '{"type":"hello"}', "--url", url],
                 {"HOOKSTREAM_CONFIG": str(config)})
    assert result.exit_code == 1
    assert result.stderr.startswith(f"hookstream: could not reach the ingress at {url}")


# dlq, against the session's Valkey ------------------------------------------------------

@pytest.fixture
def dlq_env(config, redis_url):
    return {"HOOKSTREAM_CONFIG": str(config), "HOOKSTREAM_REDIS_URL": redis_url,
            "HOOKSTREAM_WORKERS__NAMESPACE": f"t{uuid.uuid4().hex[:12]}"}


def dead_letter(redis_client, namespace, *, error, dead_at_ms, secret="s3cret"):
    """A dead letter as dramatiq keeps it: ``<ns>:<queue>.XQ`` and its ``.msgs`` hash."""
    letter_id = str(uuid.uuid4())
    message = Message(queue_name="deliveries", actor_name="process_delivery",
                      args=("demo", "evt_1", '{"type":"order.paid","api_key":"' + secret + '"}',
                            dead_at_ms), kwargs={},
                      options={"redis_message_id": letter_id,
                               "dead_letter": {"error": error, "attempts": 1}})
    redis_client.zadd(f"{namespace}:deliveries.XQ", {letter_id: dead_at_ms})
    redis_client.hset(f"{namespace}:deliveries.XQ.msgs", letter_id, message.encode())
    return letter_id


def test_dlq_list_show_and_purge(dlq_env, redis_client):
    namespace = dlq_env["HOOKSTREAM_WORKERS__NAMESPACE"]
    assert run(["dlq", "list"], dlq_env).stdout == "no dead letters\n"
    error = "TemplateError: [bold]{data.customer}[/bold] " + "x" * 80
    first = dead_letter(redis_client, namespace, error=error, dead_at_ms=1_700_000_000_000)
    second = dead_letter(redis_client, namespace, error="boom", dead_at_ms=1_700_000_001_000)

    listing = run(["dlq", "list"], dlq_env)
    assert listing.exit_code == 0, listing.output
    header, *rows = listing.stdout.splitlines()
    assert header.split() == ["ID", "QUEUE", "ACTOR", "DEAD", "AT", "(UTC)", "ATTEMPTS", "ERROR"]
    assert [row.split()[0] for row in rows] == [first, second]  # oldest first, one line each
    assert rows[0].split()[1:6] == ["deliveries", "process_delivery", "2023-11-14",
                                    "22:13:20", "1"]
    assert "TemplateError: [bold]{data.customer}[/bold] xxx" in rows[0]  # not rich markup
    assert rows[0].rstrip().endswith("…") and len(rows[0].split("TemplateError")[1]) < 60

    shown = run(["dlq", "show", first[:8]], dlq_env)
    assert shown.exit_code == 0
    assert f"id          {first}" in shown.stdout and "s3cret" not in shown.stdout

    missing = run(["dlq", "show", "ffffffff"], dlq_env)
    assert missing.exit_code == 1
    assert missing.stderr == "hookstream dlq: no dead letter with id 'ffffffff'\n"

    purged = run(["dlq", "purge", "--all", "--queue", "deliveries"], dlq_env)
    assert purged.stdout == "purged 2 dead letter(s)\n"
    assert run(["dlq", "list"], dlq_env).stdout == "no dead letters\n"
    assert run(["dlq", "replay", first], dlq_env).exit_code == 1  # gone: a clear error


def test_dlq_replay_puts_the_letter_back(dlq_env, redis_client):
    namespace = dlq_env["HOOKSTREAM_WORKERS__NAMESPACE"]
    letter = dead_letter(redis_client, namespace, error="boom", dead_at_ms=1_700_000_000_000)
    result = run(["dlq", "replay", letter], dlq_env)
    assert result.exit_code == 0, result.output
    assert result.stdout == "replayed 1 dead letter(s)\n"
    assert redis_client.zcard(f"{namespace}:deliveries.XQ") == 0
    assert redis_client.hlen(f"{namespace}:deliveries.msgs") == 1


def test_dlq_unknown_queue_or_unreachable_redis_is_exit_1(dlq_env):
    result = run(["dlq", "list", "--queue", "nope"], dlq_env)
    assert result.exit_code == 1
    assert result.stderr.startswith("hookstream dlq: unknown queue 'nope'")
    down = {**dlq_env, "HOOKSTREAM_REDIS_URL": f"redis://:pw@127.0.0.1:{free_port()}/0"}
    result = run(["dlq", "replay", "--all"], down)
    assert result.exit_code == 1
    assert result.stderr.startswith("hookstream dlq: could not reach Redis")
    assert "pw" not in result.stderr


def test_dlq_without_redis_says_how_to_set_it(config):
    result = run(["dlq", "list"], {"HOOKSTREAM_CONFIG": str(config)})
    assert result.exit_code == 2
    assert result.stderr.startswith("hookstream: redis_url is not set")


# the scheduler, a real process ------------------------------------------------------------

def test_scheduler_runs_with_the_dev_config_it_falls_back_to(tmp_path, redis_url):
    """No HOOKSTREAM_CONFIG: the scheduler re-execs itself with the dev config named."""
    namespace = f"t{uuid.uuid4().hex[:12]}"
    (tmp_path / ".hookstream").mkdir()
    (tmp_path / ".hookstream" / "dev.toml").write_text(
        f'redis_url = "{redis_url}"\nlog_format = "json"\n'
        f'[workers]\nnamespace = "{namespace}"\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKSTREAM_")}
    env["PYTHONPATH"] = str(ROOT)
    log = tmp_path / "scheduler.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "hookstream", "scheduler"],
                                   cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "scheduler.leading" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0, log.read_text()

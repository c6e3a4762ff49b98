"""Which source demos `hookstream dev` runs: a dev.toml older than the Airtable demo
(no ``[sources.airtable]``/``[airtable]``) still starts, without the local base."""

from __future__ import annotations

from common.settings import load_settings
from hookstream.dev import _airtable_demo_configured
from hookstream.devconfig import demo_config_text
from hookstream.processes import airtable_emulator

OLD_DEV_TOML = """
[sources.demo]
kind = "standard-webhooks"
secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
"""


def settings_of(tmp_path, text):
    config = tmp_path / "dev.toml"
    config.write_text(text)
    return load_settings({"HOOKSTREAM_CONFIG": str(config)})


def test_the_fresh_dev_config_runs_the_airtable_demo(tmp_path):
    assert _airtable_demo_configured(settings_of(tmp_path, demo_config_text()))


def test_an_old_dev_config_skips_it(tmp_path):
    assert not _airtable_demo_configured(settings_of(tmp_path, OLD_DEV_TOML))


def test_a_real_airtable_is_never_churned(tmp_path):
    real = OLD_DEV_TOML + '[sources.airtable]\nkind = "airtable"\n[airtable]\ntoken = "t"\n'
    assert not _airtable_demo_configured(settings_of(tmp_path, real))


def test_the_emulator_command_line():
    argv = airtable_emulator(8003, wire_url="http://127.0.0.1:8000/webhooks/airtable")
    assert argv[1:] == ["-m", "hookstream", "airtable", "emulator", "--seed", "demo",
                        "--port", "8003", "--wire", "http://127.0.0.1:8000/webhooks/airtable",
                        "--churn-s", "3.0"]
    assert "--churn-s" not in airtable_emulator(8003, wire_url="u", churn_s=None)

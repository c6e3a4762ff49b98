from pathlib import Path

import pytest

from hookstream import processes
from hookstream.commands import main
from hookstream.devconfig import demo_config_text

ROOT = Path(__file__).resolve().parents[3]


def test_procfile_names_each_process_type_and_its_root():
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines()
                 if line.strip())
    assert set(lines) == {"ingress", "worker", "scheduler", "streamer"}
    assert "api.app:get_app()" in lines["ingress"]
    for flag in ("--worker-class", "--logger-class", "--no-control-socket"):
        command = processes.ingress(1)
        value = command[command.index(flag) + 1] if flag != "--no-control-socket" else ""
        assert f"{flag} {value}".strip() in lines["ingress"]
        assert flag in (ROOT / "docker-compose.yml").read_text() and value in lines["ingress"]
    assert "workers.actors" in lines["worker"]
    assert lines["scheduler"] == "hookstream scheduler"
    assert "streamer.app:get_app" in lines["streamer"]


def test_process_commands_name_the_same_roots():
    commands = processes.all_processes(processes.Ports(1, 2))
    assert "api.app:get_app()" in commands["ingress"]
    assert "workers.actors" in commands["worker"]
    assert "streamer.app:get_app" in commands["streamer"]


def test_check_config_accepts_the_demo_config(tmp_path, monkeypatch, capsys):
    config = tmp_path / "dev.toml"
    config.write_text(demo_config_text())
    monkeypatch.setenv("HOOKSTREAM_CONFIG", str(config))
    assert main(["check-config"]) == 0
    assert "3 source(s): airtable, demo, plain" in capsys.readouterr().out


def test_check_config_reports_the_bad_key(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOOKSTREAM_CONFIG", str(tmp_path / "none.toml"))
    assert main(["check-config"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_send_refuses_unknown_source_and_bad_json(tmp_path, monkeypatch, capsys):
    config = tmp_path / "dev.toml"
    config.write_text(demo_config_text())
    monkeypatch.setenv("HOOKSTREAM_CONFIG", str(config))
    assert main(["send", "nope", "{}"]) == 2
    assert "unknown source 'nope'" in capsys.readouterr().err
    assert main(["send", "demo", "{bad"]) == 2
    assert "not valid JSON" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["README.md", "ARCHITECTURE.md", "Dockerfile",
                                  "docker-compose.yml", ".ci/run", "hookstream.example.toml"])
def test_required_files_exist(name):
    assert (ROOT / name).exists()


def test_example_config_is_valid(monkeypatch):
    from common.settings import load_settings

    settings = load_settings({"HOOKSTREAM_CONFIG": str(ROOT / "hookstream.example.toml")})
    assert "shop" in settings.sources

"""An embedded server left running by a SIGKILLed owner is shut down, data kept, before
a new one starts on the same data directory (two AOF writers would corrupt it)."""

import subprocess
import sys
from pathlib import Path

import pytest

from common.errors import ConfigError
from common.redis import connect
from hookstream.embedded import EmbeddedRedis, stop_orphan

ROOT = Path(__file__).resolve().parents[3]


def test_a_new_server_replaces_an_orphan_on_the_same_data(tmp_path):
    orphan = EmbeddedRedis(tmp_path / "valkey").start()
    connect(orphan.url).set("kept", "yes")
    successor = EmbeddedRedis(tmp_path / "valkey")  # as if the owner had been SIGKILLed
    try:
        successor.start()
        assert not orphan._server.is_running()
        assert connect(successor.url).get("kept") == b"yes"
    finally:
        successor.stop()
        orphan.stop()


def test_nothing_to_stop_without_a_server_on_that_directory(tmp_path):
    assert stop_orphan(tmp_path) is False
    first = EmbeddedRedis(tmp_path / "a").start()
    try:
        (tmp_path / "b").mkdir()
        (tmp_path / "b" / "valkey.conf").write_text(f"port {first.port}\n")  # another dir's
        assert stop_orphan(tmp_path / "b") is False
        assert first._server.is_running()
    finally:
        first.stop()


LIVE_OWNER = """
import sys, time
from pathlib import Path
from hookstream.embedded import EmbeddedRedis
EmbeddedRedis(Path(sys.argv[2])).start()
print("up", flush=True)
time.sleep(120)
"""


def test_a_server_whose_hookstream_dev_is_alive_is_left_alone(tmp_path):
    owner_script = tmp_path / "hookstream"  # argv looks like `.../hookstream dev`
    owner_script.write_text(LIVE_OWNER)
    data = tmp_path / "valkey"
    owner = subprocess.Popen([sys.executable, str(owner_script), "dev", str(data)],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert owner.stdout.readline().strip() == "up"
        with pytest.raises(ConfigError, match="in use by a running hookstream"):
            EmbeddedRedis(data).start()
    finally:
        owner.kill()
        owner.wait()
    assert stop_orphan(data) is True  # now its owner is gone

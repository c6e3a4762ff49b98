"""`hookstream dev` end to end: a fresh directory, the embedded Valkey, every process,
then `hookstream send` through the whole pipeline, and a clean stop on Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hookstream.commands import main
from hookstream.embedded import free_port
from tests.sse_client import SseReader

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def start_dev(tmp_path: Path, *args: str, stderr: int
              ) -> tuple[dict[str, int], Path, subprocess.Popen[bytes]]:
    """`hookstream dev` in *tmp_path* on free ports, its stdout in ``dev.out``."""
    ports = {"ingress": free_port(), "streamer": free_port(), "airtable": free_port()}
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKSTREAM_")}
    env["PYTHONPATH"] = str(ROOT)
    out = tmp_path / "dev.out"
    with out.open("wb") as sink:
        dev = subprocess.Popen(
            [sys.executable, "-m", "hookstream", "dev", "--state-dir", "state", *args,
             *(arg for name, port in ports.items() for arg in (f"--{name}-port", str(port)))],
            cwd=tmp_path, env=env, stdout=sink, stderr=stderr)
    return ports, out, dev


def wait_for_text(path: Path, text: str, process: subprocess.Popen[bytes], *,
                  timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in path.read_text():
        assert process.poll() is None, path.read_text()
        assert time.monotonic() < deadline, f"{text!r} never came"
        time.sleep(0.05)


def test_dev_runs_everything_and_send_reaches_the_stream(tmp_path, capsys):
    ports, out, dev = start_dev(tmp_path, "--no-demo", stderr=subprocess.DEVNULL)
    try:
        wait_for_text(out, "hookstream is running", dev)
        config = tmp_path / "state" / "dev.toml"
        assert f"config        {config}" in out.read_text()
        reader = SseReader(f"http://127.0.0.1:{ports['streamer']}/events",
                           params={"topic": "webhooks/demo"}).wait_connected()
        try:
            assert main(["--config", str(config), "send", "demo", '{"type":"hello","n":1}',
                         "--url", f"http://127.0.0.1:{ports['ingress']}"]) == 0
            assert capsys.readouterr().out.startswith("202 ")
            envelope = json.loads(reader.next_event(timeout_s=30).data)
            assert (envelope["type"], envelope["data"]) == ("hello", {"type": "hello", "n": 1})
        finally:
            reader.close()
    finally:
        dev.send_signal(signal.SIGINT)
        dev.wait(timeout=60)
    assert dev.returncode == 0


def test_dev_demo_feeds_every_source_to_the_stream(tmp_path):
    """The demo of command 1: the Airtable base changing, the Plain thread, the trips."""
    ports, out, dev = start_dev(tmp_path, stderr=subprocess.STDOUT)
    try:
        wait_for_text(out, "Airtable demo: a local base", dev)
        config = tmp_path / "state" / "dev.toml"
        reader = SseReader(f"http://127.0.0.1:{ports['streamer']}/events",
                           params={"topic": ["airtable/#", "plain/thread/#", "demo/#"]})
        try:
            reader.wait_connected()
            assert main(["--config", str(config), "sql", "sell", "1"]) == 0
            seen = wait_for_topics(reader, ("airtable/", "plain/thread/", "demo/trips/"),
                                   timeout_s=90)
        finally:
            reader.close()
    finally:
        dev.send_signal(signal.SIGINT)
        dev.wait(timeout=60)
    assert seen["airtable/"]["type"].startswith("record."), seen
    assert seen["plain/thread/"]["data"]["payload"]["chat"]["text"], seen
    assert seen["demo/trips/"]["topic"] == "demo/trips/company/1", seen
    assert dev.returncode == 0


def wait_for_topics(reader: SseReader, prefixes: tuple[str, ...], *,
                    timeout_s: float) -> dict[str, dict[str, Any]]:
    """The first event under each of *prefixes* (fails when one has not come in time)."""
    seen: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout_s
    while len(seen) < len(prefixes):
        left_s = deadline - time.monotonic()
        assert left_s > 0, f"only {sorted(seen)} came"
        try:
            event = reader.events.get(timeout=left_s)
        except queue.Empty:
            continue
        if not event.data:
            continue
        envelope = json.loads(event.data)
        for prefix in prefixes:
            if envelope["topic"].startswith(prefix) and prefix not in seen:
                seen[prefix] = envelope
    return seen

"""`hookstream dev`: the whole system on one machine, with an embedded Valkey if needed."""

from __future__ import annotations

import signal
import socket
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from common.errors import ConfigError
from common.settings import Settings, load_settings
from domains.sqlwatch import demo as sql_demo
from hookstream import processes
from hookstream.commands.output import console
from hookstream.devconfig import DEMO_SOURCE, ensure_demo_config
from hookstream.embedded import EmbeddedRedis
from hookstream.sender import DemoSource
from hookstream.supervisor import Supervisor, wait_http_ok


def _check_ports_free(ports: processes.Ports) -> None:
    for flag, port in (("--ingress-port", ports.ingress), ("--streamer-port", ports.streamer)):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise ConfigError(f"port {port} is already in use: pass {flag} PORT")


def run_dev(environ: Mapping[str, str], *, state_dir: Path, ports: processes.Ports,
            demo: bool) -> int:
    """Run everything under *environ* (plus the demo config and embedded Valkey if unset)."""
    _check_ports_free(ports)
    env = dict(environ)
    if not env.get("HOOKSTREAM_CONFIG"):
        env["HOOKSTREAM_CONFIG"] = str(ensure_demo_config(state_dir).resolve())
    settings = load_settings(env)
    embedded = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(state_dir / "valkey").start()
        env["HOOKSTREAM_REDIS_URL"] = embedded.url
        settings = load_settings(env)
    supervisor = Supervisor(env)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        _prepare_sql_demo(settings)
        for name, argv in processes.all_processes(ports).items():
            supervisor.start(name, argv)
        ingress_url = f"http://127.0.0.1:{ports.ingress}"
        streamer_url = f"http://127.0.0.1:{ports.streamer}"
        with console(stderr=True).status("starting ingress, worker, scheduler, streamer…"):
            wait_http_ok(f"{ingress_url}/readyz")
            wait_http_ok(f"{streamer_url}/readyz")
        source = DemoSource(settings, ingress_url, DEMO_SOURCE) if demo else None
        if source is not None and DEMO_SOURCE in settings.sources:
            source.start()
        _print_banner(env, ingress_url, streamer_url, embedded)
        if sql_demo.WATCH in settings.watches:
            _print_sql_demo(env, ingress_url, streamer_url)
        while not stop.wait(0.5):
            pass
    finally:
        print("\nstopping…", file=sys.stderr)
        supervisor.stop()
        if embedded is not None:
            embedded.stop()
    return 0


def _prepare_sql_demo(settings: Settings) -> None:
    """The trips demo's database (its readers run in the scheduler)."""
    if sql_demo.WATCH in settings.watches:
        sql_demo.prepare(settings.watches[sql_demo.WATCH])


def _print_sql_demo(env: dict[str, str], ingress_url: str, streamer_url: str) -> None:
    print(f"SQL demo (trips): {ingress_url}/sql/demo?streamer={streamer_url}\n"
          f"  sell a ticket:  HOOKSTREAM_CONFIG={env['HOOKSTREAM_CONFIG']} "
          ".venv/bin/hookstream sql sell 1\n", flush=True)


def _print_banner(env: dict[str, str], ingress_url: str, streamer_url: str,
                  embedded: EmbeddedRedis | None) -> None:
    redis_line = (f"embedded Valkey at {embedded.url} (data in {embedded.data_dir})"
                  if embedded else env.get("HOOKSTREAM_REDIS_URL", "configured redis_url"))
    exe = Path(sys.argv[0]).resolve()
    config = env["HOOKSTREAM_CONFIG"]
    print(f"""
hookstream is running (Ctrl-C stops everything)
  demo page     {streamer_url}/
  dashboard     {streamer_url}/dashboard  (admin token: [dashboard] in the config)
  SSE stream    {streamer_url}/events?topic=webhooks/%23
  ingress       {ingress_url}/webhooks/{DEMO_SOURCE}
  redis         {redis_line}
  config        {config}

send a signed webhook from another terminal:
  HOOKSTREAM_CONFIG={config} {exe} send {DEMO_SOURCE} '{{"type":"hello","msg":"hi"}}'
""", flush=True)

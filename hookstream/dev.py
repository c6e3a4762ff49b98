"""`hookstream dev`: the whole system on one machine, with an embedded Valkey if needed."""

from __future__ import annotations

import signal
import socket
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

import httpx

from common.errors import ConfigError
from common.settings import Settings, load_settings
from domains.sqlwatch import demo as sql_demo
from hookstream import processes
from hookstream.commands.output import console
from hookstream.devconfig import AIRTABLE_SOURCE, DEMO_SOURCE, PLAIN_SOURCE, ensure_demo_config
from hookstream.embedded import EmbeddedRedis
from hookstream.sender import DemoSource
from hookstream.supervisor import Supervisor, wait_http_ok

AIRTABLE_API_URL_ENV = "HOOKSTREAM_AIRTABLE__API_URL"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
AIRTABLE_CHURN_S = 3.0


def _check_ports_free(ports: processes.Ports, *, airtable: bool) -> None:
    flags = [("--ingress-port", ports.ingress), ("--streamer-port", ports.streamer)]
    if airtable:
        flags.append(("--airtable-port", ports.airtable))
    for flag, port in flags:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise ConfigError(f"port {port} is already in use: pass {flag} PORT")


def run_dev(environ: Mapping[str, str], *, state_dir: Path, ports: processes.Ports,
            demo: bool) -> int:
    """Run everything under *environ* (plus the demo config and embedded Valkey if unset)."""
    env = dict(environ)
    if not env.get("HOOKSTREAM_CONFIG"):
        env["HOOKSTREAM_CONFIG"] = str(
            ensure_demo_config(state_dir, airtable_port=ports.airtable).resolve())
    settings = load_settings(env)
    airtable = _airtable_demo_configured(settings)
    _check_ports_free(ports, airtable=airtable)
    if airtable:  # the emulator listens on --airtable-port, whatever port the config names
        env[AIRTABLE_API_URL_ENV] = f"http://127.0.0.1:{ports.airtable}"
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
        _start_demos(supervisor, settings, ports, ingress_url, demo=demo, airtable=airtable)
        _print_banner(env, ingress_url, streamer_url, embedded)
        _print_source_demos(settings, ports, airtable=airtable)
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


def _start_demos(supervisor: Supervisor, settings: Settings, ports: processes.Ports,
                 ingress_url: str, *, demo: bool, airtable: bool) -> None:
    """The local Airtable base (supervised) and the thread sending demo and Plain webhooks."""
    if airtable:
        supervisor.start("airtable-emulator", processes.airtable_emulator(
            ports.airtable, wire_url=f"{ingress_url}/webhooks/{AIRTABLE_SOURCE}",
            churn_s=AIRTABLE_CHURN_S if demo else None))
    if demo and DEMO_SOURCE in settings.sources:
        plain = PLAIN_SOURCE if PLAIN_SOURCE in settings.sources else None
        DemoSource(settings, ingress_url, DEMO_SOURCE, plain_source=plain).start()


def _airtable_demo_configured(settings: Settings) -> bool:
    """The local Airtable base runs when the config has the airtable source and a
    loopback ``[airtable] api_url`` (a dev.toml older than this demo has neither)."""
    source = settings.sources.get(AIRTABLE_SOURCE)
    host = httpx.URL(settings.airtable.api_url).host
    return source is not None and source.kind == "airtable" and host in LOOPBACK_HOSTS


def _print_source_demos(settings: Settings, ports: processes.Ports, *, airtable: bool) -> None:
    if airtable:
        print(f"Airtable demo: a local base at http://127.0.0.1:{ports.airtable} changes "
              f"every {AIRTABLE_CHURN_S:g} s -> airtable/... on the demo page", flush=True)
    else:
        print("Airtable demo skipped: the config has no [sources.airtable] with a local "
              "[airtable] api_url (delete an old dev.toml to get one)", flush=True)
    if PLAIN_SOURCE in settings.sources:
        print(f"Plain demo: a support thread, signed webhooks to /webhooks/{PLAIN_SOURCE} "
              "-> plain/thread/... on the demo page", flush=True)


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

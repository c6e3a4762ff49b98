"""`hookstream dev`: the whole system on one machine."""

from __future__ import annotations

from pathlib import Path

import click

from hookstream.commands.context import DEFAULT_STATE_DIR, CliContext

PORT = click.IntRange(min=1, max=65_535)


@click.command()
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_STATE_DIR, show_default=True,
              help="Where the demo config and the embedded Valkey's data live.")
@click.option("--ingress-port", type=PORT, default=8000, show_default=True,
              help="Where the webhook ingress listens.")
@click.option("--streamer-port", type=PORT, default=8001, show_default=True,
              help="Where the SSE streamer (and the demo page) listens.")
@click.option("--airtable-port", type=PORT, default=8003, show_default=True,
              help="Where the local Airtable base (the emulator) listens.")
@click.option("--no-demo", is_flag=True,
              help="No periodic demo webhooks, Plain messages or Airtable edits.")
@click.pass_obj
def dev(obj: CliContext, state_dir: Path, ingress_port: int, streamer_port: int,
        airtable_port: int, no_demo: bool) -> int:
    """Run the whole system locally.

    Ingress, worker, scheduler and streamer, plus an embedded Valkey when no
    redis_url is set and a demo config in --state-dir when no config is named,
    with demo data for every source: signed webhooks, a Plain support thread,
    a local Airtable base (the emulator) and the SQLite trips.
    """
    from hookstream.dev import run_dev
    from hookstream.processes import Ports

    ports = Ports(ingress=ingress_port, streamer=streamer_port, airtable=airtable_port)
    return run_dev(obj.environ, state_dir=state_dir, ports=ports, demo=not no_demo)

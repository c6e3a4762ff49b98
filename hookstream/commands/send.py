"""`hookstream send`: one correctly signed webhook to a running ingress."""

from __future__ import annotations

import click

from hookstream.commands.context import CliContext
from hookstream.commands.errors import CommandFailed


def _json_body(ctx: click.Context, param: click.Parameter, value: str) -> bytes:
    import orjson

    try:
        return orjson.dumps(orjson.loads(value))
    except orjson.JSONDecodeError as exc:
        raise click.BadParameter(f"the body is not valid JSON: {exc}") from exc


@click.command()
@click.argument("source")
@click.argument("body", metavar="JSON", callback=_json_body)
@click.option("--url", default="http://127.0.0.1:8000", show_default=True,
              help="The ingress base URL.")
@click.pass_obj
def send(obj: CliContext, source: str, body: bytes, url: str) -> int:
    """Send a correctly signed webhook.

    JSON (e.g. '{"type":"hello"}') is sent as a delivery from SOURCE, signed
    with its secret. Prints the ingress's status and answer; exit 1 unless 2xx.
    """
    import httpx

    from hookstream.sender import send_webhook

    try:
        response = send_webhook(obj.settings, url, source, body)
    except httpx.TransportError as exc:
        raise CommandFailed(f"could not reach the ingress at {url}: {exc}") from exc
    click.echo(f"{response.status_code} {response.text}")
    return 0 if response.is_success else 1

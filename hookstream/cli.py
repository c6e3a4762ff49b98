"""The `hookstream` console script."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import orjson

from common.errors import ConfigError
from common.settings import load_settings
from hookstream import processes

DEFAULT_STATE_DIR = ".hookstream"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hookstream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run ingress, worker, streamer (+ embedded Valkey)")
    dev.add_argument("--state-dir", type=Path, default=Path(DEFAULT_STATE_DIR))
    dev.add_argument("--ingress-port", type=int, default=8000)
    dev.add_argument("--streamer-port", type=int, default=8001)
    dev.add_argument("--no-demo", action="store_true", help="no periodic demo webhooks")

    send = commands.add_parser("send", help="send a correctly signed webhook")
    send.add_argument("source", help="a source name from the config")
    send.add_argument("json", help="the JSON body, e.g. '{\"type\":\"hello\"}'")
    send.add_argument("--url", default="http://127.0.0.1:8000", help="ingress base URL")

    commands.add_parser("check-config", help="load the configuration and report problems")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        print(f"hookstream: {exc}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "dev":
        from hookstream.dev import run_dev

        ports = processes.Ports(ingress=args.ingress_port, streamer=args.streamer_port)
        return run_dev(state_dir=args.state_dir, ports=ports, demo=not args.no_demo)
    if args.command == "send":
        return _send(args)
    settings = load_settings(_env_with_dev_config())
    print(f"configuration OK: {len(settings.sources)} source(s): "
          f"{', '.join(sorted(settings.sources)) or 'none'}")
    return 0


def _env_with_dev_config() -> dict[str, str]:
    """The environment, falling back to the config `hookstream dev` wrote here."""
    env = dict(os.environ)
    dev_config = Path(DEFAULT_STATE_DIR) / "dev.toml"
    if not env.get("HOOKSTREAM_CONFIG") and dev_config.exists():
        env["HOOKSTREAM_CONFIG"] = str(dev_config)
    return env


def _send(args: argparse.Namespace) -> int:
    from hookstream.sender import send_webhook

    try:
        body = orjson.dumps(orjson.loads(args.json))
    except orjson.JSONDecodeError as exc:
        print(f"hookstream: the body is not valid JSON: {exc}", file=sys.stderr)
        return 2
    settings = load_settings(_env_with_dev_config())
    response = send_webhook(settings, args.url, args.source, body)
    print(f"{response.status_code} {response.text}")
    return 0 if response.is_success else 1


if __name__ == "__main__":
    sys.exit(main())

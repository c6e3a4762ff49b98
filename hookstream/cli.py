"""The `hookstream` console script."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import orjson

from common.errors import ConfigError
from common.settings import load_settings
from hookstream import dlq, processes

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

    worker = commands.add_parser("worker", help="run supervised dramatiq worker processes")
    worker.add_argument("--processes", "-p", type=int, default=2, help="worker processes")
    worker.add_argument("--threads", "-t", type=int, default=4, help="threads per process")
    worker.add_argument("--shutdown-timeout-s", type=float, default=30.0,
                        help="how long running jobs may take to finish on SIGTERM")
    worker.add_argument("modules", nargs="*", default=["workers.actors"],
                        help="actor modules (default: workers.actors)")
    commands.add_parser("scheduler", help="run the periodic-job scheduler (one fires at a time)")
    dlq.add_parser(commands)
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
    if args.command in ("worker", "scheduler", "dlq"):
        return _operate(args)
    settings = load_settings(_env_with_dev_config())
    print(f"configuration OK: {len(settings.sources)} source(s): "
          f"{', '.join(sorted(settings.sources)) or 'none'}")
    return 0


def _operate(args: argparse.Namespace) -> int:
    # The processes this starts, and the broker module they import, read the same config.
    os.environ.update(_env_with_dev_config())
    if args.command == "scheduler":
        from workers.scheduler import main as run_scheduler

        return run_scheduler()
    settings = load_settings()
    if args.command == "dlq":
        from workers.errors import DeadLetterNotFound

        try:
            return dlq.run(settings, args)
        except DeadLetterNotFound as exc:
            print(f"hookstream dlq: {exc}", file=sys.stderr)
            return 1
    if args.processes < 1 or args.threads < 1:
        print("hookstream worker: --processes and --threads must be at least 1", file=sys.stderr)
        return 2
    from hookstream.workerpool import run_workers

    return run_workers(settings, processes=args.processes, threads=args.threads,
                       modules=args.modules, shutdown_timeout_s=args.shutdown_timeout_s)


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

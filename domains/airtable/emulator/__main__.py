"""``python -m domains.airtable.emulator --port N [--penalty-s S] [--seed FILE|demo]``."""

from __future__ import annotations

import argparse

from domains.airtable.emulator.server import build, serve


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m domains.airtable.emulator",
                                     description="A local Airtable-compatible server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--seed", default=None, help="a JSON seed file, or 'demo'")
    parser.add_argument("--token", action="append", default=[],
                        help="accepted bearer token (repeatable; none = any token)")
    parser.add_argument("--rate-per-s", type=int, default=5, help="requests per base per second")
    parser.add_argument("--token-rate-per-s", type=int, default=50,
                        help="requests per token per second (all bases)")
    parser.add_argument("--penalty-s", type=float, default=30.0,
                        help="how long a base (or token) answers 429 after going over its rate")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    emulator = build(seed=args.seed, tokens=frozenset(args.token), rate_per_s=args.rate_per_s,
                     penalty_s=args.penalty_s, token_rate_per_s=args.token_rate_per_s)
    serve(emulator, host=args.host, port=args.port)


if __name__ == "__main__":
    main()

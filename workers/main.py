"""``python -m workers.main ARGS``: dramatiq's own command line, with hookstream's logs.

The same arguments as ``python -m dramatiq``. Logging is configured first, from
the settings, and dramatiq is told to leave it alone (``--skip-logging``), so its
main process's lines ("booting up", a worker that died) are structured JSON like
every other line. `hookstream worker` runs one of these per worker process.
"""

from __future__ import annotations

import sys

import dramatiq.cli

from common.errors import ConfigError
from common.logs import configure_logging
from common.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    try:
        configure_logging(load_settings(), process="worker")
    except ConfigError as exc:
        print(f"hookstream: {exc}", file=sys.stderr)
        return 2
    args = dramatiq.cli.make_argument_parser().parse_args(argv)  # type: ignore[no-untyped-call]
    args.skip_logging = True
    return int(dramatiq.cli.main(args) or 0)  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    sys.exit(main())

"""``python -m hookstream``: the `hookstream` command (how `hookstream.processes` runs it)."""

import sys

from hookstream.commands import main

if __name__ == "__main__":
    sys.exit(main())

"""`hookstream check-config`: load the configuration and report problems."""

from __future__ import annotations

import click

from hookstream.commands.context import CliContext

SOURCE_COLUMNS = ("SOURCE", "KIND", "TOPIC", "TYPE", "SECRETS")


@click.command("check-config")
@click.pass_obj
def check_config(obj: CliContext) -> int:
    """Load the configuration and report problems.

    Prints the sources and the Redis set-up; a bad configuration exits 2 naming
    the key and the variable that sets it.
    """
    from hookstream.commands.output import console, table

    settings = obj.settings
    names = sorted(settings.sources)
    out = console()
    out.print(f"configuration OK: {len(names)} source(s): {', '.join(names) or 'none'}",
              markup=False)
    rows = [(name, source.kind, source.topic, source.type, str(len(source.secrets)))
            for name, source in sorted(settings.sources.items())]
    if rows:
        out.print(table(SOURCE_COLUMNS, rows))
    redis = "set" if settings.redis_url else "not set (`hookstream dev` starts an embedded one)"
    out.print(f"redis_url {redis}; namespace {settings.workers.namespace!r}; "
              f"queues {', '.join(settings.workers.queues)}", markup=False)
    return 0

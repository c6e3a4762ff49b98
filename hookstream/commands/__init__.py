"""The `hookstream` command groups, one module per group (each a standalone click.Group)."""

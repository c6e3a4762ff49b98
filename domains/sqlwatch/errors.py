"""Errors of the SQL watch domain.

    SqlWatchError
    ├── UnknownWatch        no ``[watches.NAME]`` of that name
    ├── UnsupportedDialect  push mode on a database without our trigger design
    ├── DatabaseUnavailable the database refused or dropped the connection (transient)
    └── WatchBusy           another diff of the same watch is running (retry shortly)
"""

from __future__ import annotations

from common.errors import HookstreamError


class SqlWatchError(HookstreamError):
    """Base of every error raised by domains.sqlwatch."""


class UnknownWatch(SqlWatchError):
    pass


class UnsupportedDialect(SqlWatchError):
    pass


class DatabaseUnavailable(SqlWatchError):
    pass


class WatchBusy(SqlWatchError):
    pass

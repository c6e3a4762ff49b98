"""Errors of the Airtable change sync and webhook lifecycle.

SyncError
 ├── Gone               Airtable answered 404 (a webhook expired or deleted, a base or
 │                      table removed): permanent
 ├── Refused            any other 4xx (a bad request): permanent
 └── AirtableFailed     5xx, 429, timeout or no connection: a later attempt may work
"""

from __future__ import annotations

from common.errors import HookstreamError


class SyncError(HookstreamError):
    """Base of the errors the change sync raises on purpose."""


class Gone(SyncError):
    """Airtable does not know the thing asked for (404)."""


class Refused(SyncError):
    """Airtable refused the request (a 4xx other than 404 and 429)."""


class AirtableFailed(SyncError):
    """A transient failure talking to Airtable; the job is retried."""

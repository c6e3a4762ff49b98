"""Errors of the Airtable domain.

AirtableError
 ├── MustWait             try again later, after ``retry_after_s`` (a job waits, never fails)
 │    ├── BasePaused      the base is paused after a 429 (shared by every process)
 │    ├── BudgetBusy      the next free request slot is further off than the caller waits
 │    └── AirtableDown    5xx, timeout or no connection
 ├── RequestRejected      a 4xx other than 429 (invalid fields, unknown record): permanent
 │    └── Gone            404: a webhook expired or deleted, a base, table or record removed
 ├── InvalidWrite         a write request the ingress refuses (400)
 └── JobNotFound          no write job has that id
"""

from __future__ import annotations

from common.errors import HookstreamError


class AirtableError(HookstreamError):
    """Base of every error the Airtable domain raises on purpose."""


class MustWait(AirtableError):
    """The request cannot be made now; it may be made after *retry_after_s*.

    *maybe_written* is True when the request may have reached Airtable and been
    carried out (a timeout, a lost answer, a 5xx); False when it surely was not
    (no slot, paused, 429, connection refused).
    """

    def __init__(self, message: str, *, retry_after_s: float,
                 maybe_written: bool = False) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.maybe_written = maybe_written


class BasePaused(MustWait):
    """Airtable answered 429 for this base; every process waits out the pause."""


class BudgetBusy(MustWait):
    """The request budget has no slot within the caller's wait."""


class AirtableDown(MustWait):
    """Airtable did not answer usefully (5xx, timeout, connection refused)."""


class RequestRejected(AirtableError):
    """Airtable refused the request (4xx other than 429); retrying will not help."""

    def __init__(self, message: str, *, status: int, error_type: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type


class Gone(RequestRejected):
    """Airtable does not know the thing asked for (404)."""

    def __init__(self, message: str, *, error_type: str = "NOT_FOUND") -> None:
        super().__init__(message, status=404, error_type=error_type)


class InvalidWrite(AirtableError):
    """A write request that is not well formed (the ingress answers 400)."""


class JobNotFound(AirtableError):
    """No write job has this id."""

"""Requests to Airtable on paths pyairtable has no method for, errors translated once.

The change sync, the schema cache, the webhooks and the reconciliation take an
`ApiFactory` (a callable giving a pyairtable `Api`), so the budgeted client of
`services.build_budgeted_api` (every request under the shared Redis budget,
429 -> a pause every process sees) plugs in without them knowing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyairtable import Api

from domains.airtable.client import translated

ApiFactory = Callable[[], Api]


def call(api: Api, method: str, path: str, *, params: dict[str, Any] | None = None,
         json: dict[str, Any] | None = None) -> Any:
    """``method`` on ``/v0/<path>``: 404 -> `Gone`, other 4xx -> `RequestRejected`,
    429, 5xx and no answer -> `MustWait` (from the budgeted adapter or `translated`)."""
    with translated():
        return api.request(method, str(api.build_url(path)), params=params, json=json)

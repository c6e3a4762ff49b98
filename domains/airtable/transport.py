"""Requests to Airtable through an injected pyairtable `Api`, errors translated once.

The `Api` comes from an `ApiFactory` (a callable), so the budgeted client of the
writes side (every request under the shared Redis budget, 429 -> shared pause)
plugs in without the sync knowing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from pyairtable import Api

from common.settings import AirtableSettings
from domains.airtable.sync_errors import AirtableFailed, Gone, Refused

ApiFactory = Callable[[], Api]


def plain_api_factory(settings: AirtableSettings) -> ApiFactory:
    """pyairtable as shipped (no shared budget), pointed at ``settings.api_url``."""

    def build() -> Api:
        token = settings.require_token().get_secret_value()
        timeout_s = max(1, round(settings.request_timeout_s))
        return Api(token, endpoint_url=settings.api_url, timeout=(timeout_s, timeout_s),
                   retry_strategy=None)

    return build


def call(api: Api, method: str, path: str, *, params: dict[str, Any] | None = None,
         json: dict[str, Any] | None = None) -> Any:
    """``method`` on ``/v0/<path>``; 404 -> `Gone`, 4xx -> `Refused`, else `AirtableFailed`."""
    url = api.build_url(path)
    try:
        return api.request(method, str(url), params=params, json=json)
    except requests.HTTPError as exc:
        raise _translated(exc) from exc
    except requests.RequestException as exc:
        raise AirtableFailed(f"{method} {path}: {type(exc).__name__}") from exc


def _translated(exc: requests.HTTPError) -> Exception:
    status = exc.response.status_code if exc.response is not None else 0
    if status == 404:
        return Gone(f"Airtable answered 404: {exc}")
    if 400 <= status < 500 and status != 429:
        return Refused(f"Airtable refused the request: HTTP {status}")
    return AirtableFailed(f"Airtable answered HTTP {status}")

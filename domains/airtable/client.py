"""The budgeted pyairtable client: every HTTP request takes a budget slot first.

pyairtable sends through one `requests.Session` (``Api.session``); this module
mounts `BudgetedAdapter` on it, so every request pyairtable makes (records,
pagination, schema, webhooks) first takes a slot from the shared
`RequestBudget` for its base (read from the URL) and the token. pyairtable's
own 429 retry (a urllib3 ``Retry`` that gives up after ~3 s) is switched off
(``retry_strategy=None``): a 429 pauses the base for every process
(``pause_after_429_s``, or Retry-After if longer) and raises `BasePaused`;
5xx, timeouts and refused connections raise `AirtableDown`. Both are
`MustWait`: the caller waits, a job is retried later, nothing fails.
Other 4xx come out of pyairtable as ``requests.HTTPError``; `translated`
turns them into `RequestRejected` (`Gone` for a 404).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pyairtable
import requests
import structlog
import urllib3
from requests.adapters import HTTPAdapter

from common.settings import AirtableSettings
from domains.airtable.budget import RequestBudget
from domains.airtable.errors import AirtableDown, BasePaused, Gone, RequestRejected

log = structlog.get_logger(__name__)
DOWN_RETRY_AFTER_S = 5.0
CONNECT_TIMEOUT_S = 5.0


def base_of(url: str) -> str | None:
    """The base a request URL is about (``/v0/{base}/…``, ``/v0/meta/bases/{base}/…``,
    ``/v0/bases/{base}/…``), or None (``/v0/meta/whoami``)."""
    parts = [part for part in urlsplit(url).path.split("/") if part]
    after = parts[parts.index("v0") + 1:] if "v0" in parts else parts
    for part in after[:3]:
        if part.startswith("app"):
            return part
    if after and after[0] not in ("meta", "bases"):
        return after[0]
    return None


class BudgetedAdapter(HTTPAdapter):
    """A `requests` transport that spends the shared budget and turns 429 into a pause."""

    def __init__(self, budget: RequestBudget, *, pause_after_429_s: float,
                 max_wait_s: float) -> None:
        super().__init__(max_retries=0)
        self._budget = budget
        self._pause_after_429_s = pause_after_429_s
        self._max_wait_s = max_wait_s

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: Any = True, cert: Any = None,
             proxies: dict[str, str] | None = None) -> requests.Response:
        base = base_of(request.url or "")
        slot = self._budget.acquire(base, max_wait_s=self._max_wait_s)
        log.debug("airtable.slot", base=base, slot_us=slot.slot_us, wait_s=slot.wait_s)
        try:
            response = super().send(request, stream=stream, timeout=timeout, verify=verify,
                                    cert=cert, proxies=proxies)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise AirtableDown(f"Airtable unreachable: {type(exc).__name__}",
                               retry_after_s=DOWN_RETRY_AFTER_S,
                               maybe_written=not _never_connected(exc)) from exc
        self._check(base, request, response)
        return response

    def _check(self, base: str | None, request: requests.PreparedRequest,
               response: requests.Response) -> None:
        if response.status_code == 429:
            pause_s = max(self._pause_after_429_s, _retry_after_s(response))
            started = self._budget.pause(base or "-", pause_s)
            log.warning("airtable.throttled", base=base, pause_s=pause_s, new_pause=started,
                        method=request.method)
            raise BasePaused(f"Airtable answered 429 for base {base}", retry_after_s=pause_s)
        if response.status_code >= 500:
            raise AirtableDown(f"Airtable answered {response.status_code}",
                               retry_after_s=DOWN_RETRY_AFTER_S, maybe_written=True)


def build_api(settings: AirtableSettings, budget: RequestBudget, *,
              max_wait_s: float) -> pyairtable.Api:
    """A pyairtable `Api` on ``settings.api_url`` whose every request is budgeted."""
    api = pyairtable.Api(settings.require_token().get_secret_value(),
                         endpoint_url=settings.api_url, retry_strategy=None,
                         timeout=(min(CONNECT_TIMEOUT_S, settings.request_timeout_s),  # type: ignore[arg-type]
                                  settings.request_timeout_s))
    adapter = BudgetedAdapter(budget, pause_after_429_s=settings.pause_after_429_s,
                              max_wait_s=max_wait_s)
    api.session.mount("http://", adapter)
    api.session.mount("https://", adapter)
    return api


@contextmanager
def translated() -> Iterator[None]:
    """Turn pyairtable's ``HTTPError`` for a 4xx into `RequestRejected` (`Gone` for 404)."""
    try:
        yield
    except requests.HTTPError as exc:
        response = exc.response
        status = response.status_code if response is not None else 0
        if status == 404:
            raise Gone(f"Airtable answered 404 {_error_type(response)}",
                       error_type=_error_type(response)) from exc
        raise RequestRejected(f"Airtable refused the request: HTTP {status} "
                              f"{_error_type(response)}", status=status,
                              error_type=_error_type(response)) from exc
    except requests.RequestException as exc:  # e.g. the answer cut off: it may have happened
        raise AirtableDown(f"Airtable request failed: {type(exc).__name__}",
                           retry_after_s=DOWN_RETRY_AFTER_S, maybe_written=True) from exc


def _never_connected(exc: requests.RequestException) -> bool:
    """True when the request surely never reached the server (refused, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    return isinstance(getattr(reason, "reason", None), urllib3.exceptions.NewConnectionError)


def _error_type(response: requests.Response | None) -> str:
    try:
        error = response.json().get("error") if response is not None else None
    except ValueError:
        return "unknown"
    if isinstance(error, dict):
        return str(error.get("type", "unknown"))
    return str(error or "unknown")


def _retry_after_s(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return float(value)
    except ValueError:
        return 0.0

"""The budgeted pyairtable client over real HTTP: budget first, 429 -> shared pause, no retry."""

from __future__ import annotations

import pytest
import redis

from domains.airtable import keys
from domains.airtable.client import base_of, translated
from domains.airtable.errors import AirtableDown, BasePaused, RequestRejected
from domains.airtable.services import build_budgeted_api
from hookstream.embedded import free_port
from tests.airtable_support import DEMO_BASE, DEMO_TABLE, admin, start_emulator


@pytest.fixture
def limited_emulator():
    server = start_emulator(rate_per_s=5, penalty_s=30.0)
    yield server
    server.stop()


def api_for(redis_url, make_settings, url, **airtable):
    settings = make_settings(airtable={"api_url": url, "token": "test-token", **airtable})
    return build_budgeted_api(redis.Redis.from_url(redis_url), settings, max_wait_s=10)


@pytest.mark.parametrize(("url", "base"), [
    ("https://api.airtable.com/v0/appX1/tblY", "appX1"),
    ("https://api.airtable.com/v0/meta/bases/appX1/tables", "appX1"),
    ("https://api.airtable.com/v0/bases/appX1/webhooks/ach1/payloads", "appX1"),
    ("https://api.airtable.com/v0/meta/whoami", None),
    ("http://127.0.0.1:9/v0/appZ/Tasks?view=Grid", "appZ"),
], ids=["records", "schema", "webhooks", "whoami", "local"])
def test_the_base_is_read_from_the_url(url, base) -> None:
    assert base_of(url) == base


def test_every_request_waits_for_its_slot_and_never_draws_a_429(redis_url, make_settings,
                                                                limited_emulator):
    api = api_for(redis_url, make_settings, limited_emulator.url)
    table = api.table(DEMO_BASE, DEMO_TABLE)
    for _ in range(8):
        table.all()
    stats = admin(limited_emulator.url, "GET", f"/bases/{DEMO_BASE}/stats")
    assert stats["requests"] == 8 and stats["rejected"] == 0
    assert stats["peak_accepted_per_s"] <= 5


def test_a_429_pauses_the_base_without_pyairtable_retrying(redis_url, make_settings,
                                                           limited_emulator):
    url = limited_emulator.url
    raw = api_for(redis_url, make_settings, url, base_rate_per_s=1000)  # a careless client
    with pytest.raises(BasePaused) as paused:
        for _ in range(7):
            raw.table(DEMO_BASE, DEMO_TABLE).all()
    assert paused.value.retry_after_s >= 29
    sent = admin(url, "GET", f"/bases/{DEMO_BASE}/stats")["requests"]
    assert sent == 6  # the 429 was not retried
    careful = api_for(redis_url, make_settings, url)
    with pytest.raises(BasePaused):
        careful.table(DEMO_BASE, DEMO_TABLE).all()  # another process: paused too, not sent
    assert admin(url, "GET", f"/bases/{DEMO_BASE}/stats")["requests"] == sent
    stats = redis.Redis.from_url(redis_url).hgetall(keys.stats_key("hookstream"))
    assert stats[f"throttled:{DEMO_BASE}".encode()] == b"1"


def test_airtable_down_is_a_wait_not_a_failure(redis_url, make_settings) -> None:
    api = api_for(redis_url, make_settings, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(AirtableDown) as down:
        api.table(DEMO_BASE, DEMO_TABLE).all()
    assert down.value.retry_after_s > 0
    assert not down.value.maybe_written  # refused: the request surely never arrived


def test_other_4xx_are_rejections(redis_url, make_settings, emulator) -> None:
    api = api_for(redis_url, make_settings, emulator.url)
    with pytest.raises(RequestRejected) as rejected, translated():
        api.table(DEMO_BASE, DEMO_TABLE).get("recNope0000000000")
    assert rejected.value.status == 404

"""GET /sql/{watch}/snapshot through the real Falcon app: tenant rules and the resume position."""

from __future__ import annotations

import time

import jwt
import pytest
import sqlalchemy as sa
from falcon import testing

from api.app import create_app
from api.queue import MemoryQueue
from api.stats import MemoryStats
from common.publishing import EventLog
from domains.sqlwatch import triggers
from domains.sqlwatch.snapshots import RedisSnapshots
from tests.unit.sqlwatch.conftest import NAMESPACE, make_harness, watch_settings

pytestmark = pytest.mark.anyio
SECRET = "jwt-secret-for-tests-0123456789abcdef"


@pytest.fixture(params=["sqlite"])
def db_url(request, tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


def token(*patterns: str) -> str:
    return jwt.encode({"sub": "admin", "exp": int(time.time()) + 60, "topics": list(patterns)},
                      SECRET, algorithm="HS256")


@pytest.fixture
async def client(make_settings, app_db, db_url, redis_client):
    config = watch_settings(db_url)
    settings = make_settings(watches={"trips": config.model_dump(mode="json") | {
        "url": db_url}}, streamer={"jwt_secret": SECRET, "public_topics": ["public/#"]})
    triggers.execute(app_db, triggers.install_sql(app_db, "trips", config))
    with app_db.begin() as connection:
        connection.execute(sa.text("INSERT INTO trips (id, company_id, name, secret) VALUES "
                                   "(1, 7, 'Lagos', 's1'), (2, 8, 'Kano', 's2')"))
    make_harness("trips", config, redis_client).pump()
    snapshots = RedisSnapshots(redis_client, settings.watches, namespace=NAMESPACE,
                               events=settings.events)

    async def ping():
        return True

    async def backlog():
        return 0

    app = create_app(settings, queue=MemoryQueue(), stats=MemoryStats(),
                     publisher=EventLog(redis_client, settings.events), ping=ping,
                     backlog=backlog, snapshots=snapshots)
    async with testing.ASGIConductor(app) as conductor:
        yield conductor


async def test_a_company_token_reads_its_own_rows_without_hidden_columns(client):
    result = await client.simulate_get(
        "/sql/trips/snapshot", params={"topic": "trips/company/7"},
        headers={"Authorization": f"Bearer {token('trips/company/7')}"})
    assert result.status_code == 200
    assert result.json["rows"] == [{"id": 1, "company_id": 7, "name": "Lagos", "seats": None,
                                    "notes": None}]
    assert result.json["position"]


async def test_a_company_token_asking_for_another_company_is_403(client):
    result = await client.simulate_get(
        "/sql/trips/snapshot", params={"topic": "trips/company/8"},
        headers={"Authorization": f"Bearer {token('trips/company/7')}"})
    assert result.status_code == 403
    assert result.json["error"]["code"] == "topic_forbidden"


async def test_no_token_is_401_and_the_publish_key_reads_any_topic(client):
    anonymous = await client.simulate_get("/sql/trips/snapshot",
                                          params={"topic": "trips/company/8"})
    assert anonymous.status_code == 401
    backend = await client.simulate_get("/sql/trips/snapshot", params={"topic": "trips/company/8"},
                                        headers={"Authorization": "Bearer pub-key-1"})
    assert [row["name"] for row in backend.json["rows"]] == ["Kano"]


async def test_unknown_watch_is_404_and_a_pattern_is_400(client):
    headers = {"Authorization": "Bearer pub-key-1"}
    missing = await client.simulate_get("/sql/nope/snapshot", params={"topic": "a"},
                                        headers=headers)
    assert missing.status_code == 404
    pattern = await client.simulate_get("/sql/trips/snapshot", params={"topic": "trips/#"},
                                        headers=headers)
    assert pattern.status_code == 400

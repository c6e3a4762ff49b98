"""Airtable changes end to end with real processes: the emulator pings the real ingress,
a dramatiq worker fetches the payloads, the streamer delivers record events over SSE."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import httpx
import pytest
from pyairtable import Api

from common.settings import Settings
from domains.airtable.services import budgeted_api_factory
from domains.airtable.webhooks import Webhooks
from tests.airtable_support import DEMO_BASE, DEMO_TABLE, admin, start_emulator
from tests.integration.cluster_support import Cluster
from tests.sse_client import SseReader
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
TOKEN = "integration-airtable-token"
TABLE_TOPIC = f"airtable/{DEMO_BASE}/{DEMO_TABLE}/+"


def config_text(api_url: str) -> str:
    return f"""
log_format = "json"
[streamer]
public_topics = ["webhooks/#", "public/#", "airtable/#"]
heartbeat_s = 1
[ingress]
publish_keys = ["integration-key"]
max_body_bytes = 65536
[sources.airtable]
kind = "airtable"
[airtable]
api_url = "{api_url}"
token = "{TOKEN}"
"""


class AirtableCluster(Cluster):
    """The cluster with an `airtable` source on the emulator (in this process)."""

    def __init__(self, tmp_path: Path, redis_url: str) -> None:
        self.emulator = start_emulator()
        super().__init__(tmp_path, redis_url, config_text(self.emulator.url),
                         ("workers.actors", "workers.airtable"))
        settings = Settings.model_validate({"airtable": {"api_url": self.emulator.url,
                                                         "token": TOKEN}})
        self.api = Api(TOKEN, endpoint_url=self.emulator.url, retry_strategy=None)
        self.webhooks = Webhooks(self.redis, budgeted_api_factory(self.redis, settings,
                                                                  max_wait_s=10),
                                 namespace="hookstream")

    def hook(self) -> str:
        return self.webhooks.create(DEMO_BASE, f"{self.ingress_url}/webhooks/airtable",
                                    table=DEMO_TABLE).id

    def change(self, **body) -> dict:
        return admin(self.emulator.url, "POST", f"/bases/{DEMO_BASE}/changes",
                     {"table": "Tasks", **body})

    def marker(self, name: str) -> None:
        self.publish_marker(f"airtable/{DEMO_BASE}/{DEMO_TABLE}/marker", name)

    def stop(self) -> None:
        super().stop()
        self.emulator.stop()


@pytest.fixture
def cluster(tmp_path, redis_url):
    with AirtableCluster(tmp_path, redis_url) as running:
        yield running


@pytest.fixture
def stream(cluster):
    reader = SseReader(f"{cluster.streamer_url}/events",
                       params={"topic": TABLE_TOPIC}).wait_connected()
    yield reader
    reader.close()


def envelopes_until(reader: SseReader, marker: str) -> list[dict]:
    found = []
    while True:
        envelope = json.loads(reader.next_event(timeout_s=60).data)
        if envelope["id"] == marker:
            return found
        found.append(envelope)


def next_envelope(reader: SseReader) -> dict:
    return json.loads(reader.next_event(timeout_s=30).data)


def test_a_persons_changes_reach_an_sse_client_as_record_events(cluster, stream):
    cluster.start_workers()
    cluster.hook()
    cluster.change(update=[{"id": "recTask0000000002", "fields": {"Status": "Done"}}])
    updated = next_envelope(stream)
    assert updated["type"] == "record.updated"
    assert updated["topic"] == f"airtable/{DEMO_BASE}/{DEMO_TABLE}/recTask0000000002"
    assert updated["data"] == {"base": DEMO_BASE, "table": DEMO_TABLE,
                               "record": "recTask0000000002", "fields": {"Status": "Done"},
                               "previous": {"Status": "Doing"}}
    created = cluster.change(create=[{"fields": {"Name": "Live", "Points": 1}}])
    record_id = created["created"][0]["id"]
    envelope = next_envelope(stream)
    assert (envelope["type"], envelope["data"]["fields"]) == (
        "record.created", {"Name": "Live", "Points": 1})
    cluster.change(delete=[record_id])
    envelope = next_envelope(stream)
    assert (envelope["type"], envelope["data"]["record"]) == ("record.deleted", record_id)
    assert envelope["data"]["previous"] == {"Name": "Live", "Points": 1}


def test_split_repeated_and_racing_pings_give_each_change_once(cluster, stream):
    cluster.start_workers()
    webhook = cluster.hook()
    cluster.change(create=[{"fields": {"Name": f"split {i}"}} for i in range(5)], split=3)
    for points in range(4):
        cluster.change(update=[{"id": "recTask0000000001", "fields": {"Points": points}}])
    # the same ping 3 more times, then two racing fresh pings
    (first, *_) = admin(cluster.emulator.url, "GET",
                        f"/bases/{DEMO_BASE}/webhooks/{webhook}/pings")["pings"]
    for _ in range(3):
        response = httpx.post(f"{cluster.ingress_url}/webhooks/airtable",
                              content=first["body"].encode(), headers=first["headers"])
        assert response.status_code in (200, 202), response.text
    racers = [threading.Thread(target=admin, args=(
        cluster.emulator.url, "POST", f"/bases/{DEMO_BASE}/webhooks/{webhook}/ping"))
        for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    wait_until(lambda: cluster.redis.get(f"hookstream:{{airtable-hook:{webhook}}}:cursor")
               == b"8", what="every payload to be processed", timeout_s=60)
    cluster.marker("marker-race")
    seen = envelopes_until(stream, "marker-race")
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)) == 9  # 5 created (one transaction, 3 payloads) + 4 updates
    assert {e["id"].split(":")[2] for e in seen if e["type"] == "record.created"} == {"1"}


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(cluster, stream):
    cluster.start_workers("tests.integration.airtable_crashing")
    webhook = cluster.hook()
    cluster.change(create=[{"fields": {"Name": f"crash-{i}"}} for i in range(6)])
    victim = int(wait_until(lambda: cluster.redis.get("test:airtable:paused"),
                            what="the worker to pause mid-batch", timeout_s=60))
    os.kill(victim, signal.SIGKILL)
    cluster.stop_workers()
    cluster.start_workers()
    wait_until(lambda: cluster.redis.get(f"hookstream:{{airtable-hook:{webhook}}}:cursor")
               == b"2", what="the transaction to be finished by the restarted worker",
               timeout_s=60)
    cluster.marker("marker-crash")
    seen = [e for e in envelopes_until(stream, "marker-crash")
            if e["type"] == "record.created"]
    names = sorted(e["data"]["fields"]["Name"] for e in seen)
    assert names == [f"crash-{i}" for i in range(6)]
    assert len({e["id"] for e in seen}) == 6

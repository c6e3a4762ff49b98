from __future__ import annotations

import pytest
from pyairtable import Api

from tests.airtable_support import PingReceiver, start_emulator


@pytest.fixture
def emulator():
    server = start_emulator()
    yield server
    server.stop()


@pytest.fixture
def api(emulator) -> Api:
    return Api("test-token", endpoint_url=emulator.url, retry_strategy=None)


@pytest.fixture
def receiver():
    server = PingReceiver()
    yield server
    server.close()

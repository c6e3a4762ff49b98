"""The load generator: N raw-asyncio SSE clients in one process (httpx is far too heavy).

Each event's data carries its publish time (``"t": <ns>``); a client stamps the
receive time, so latency = receive - publish on the same machine clock.
Commands on stdin, one JSON line of results on stdout per command:

    python -m bench.sse_load HOST PORT TOPIC N [STAMP_REGEX]
    <- {"ready": N, "connect_s": ...}       once every stream has its first bytes
    -> reset                                  forget what was received so far
    -> report                                 latency/count summary since the last reset
    -> quit
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
import time
from urllib.parse import quote

import uvloop

from bench.fdlimit import raise_fd_limit

STAMP = re.compile(rb'"t":(\d+)')
CONNECT_CONCURRENCY = 256
CONNECTIONS_PER_SOURCE_IP = 20_000  # loopback ephemeral ports per (source, destination) pair


class Collector:
    def __init__(self) -> None:
        self.latencies_ns: list[int] = []
        self.events = 0
        self.closed = 0
        self.first_ns = 0
        self.last_ns = 0

    def reset(self) -> dict[str, float]:
        self.latencies_ns, self.events, self.first_ns, self.last_ns = [], 0, 0, 0
        return {}

    def summary(self) -> dict[str, float]:
        values = sorted(self.latencies_ns)
        events = self.events
        if not values:
            return {"deliveries": events}
        pick = lambda q: values[min(len(values) - 1, int(q * len(values)))] / 1e6  # noqa: E731
        span_s = max((self.last_ns - self.first_ns) / 1e9, 1e-3)
        return {"deliveries": events, "p50_ms": pick(0.5), "p99_ms": pick(0.99),
                "max_ms": values[-1] / 1e6, "closed": self.closed,
                "deliveries_per_s": round(events / span_s)}


class Client(asyncio.Protocol):
    def __init__(self, request: bytes, collector: Collector, opened: asyncio.Future[None]) -> None:
        self._request = request
        self._collector = collector
        self._opened = opened
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self._request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        now = time.time_ns()
        if not self._opened.done():
            self._opened.set_result(None)
        data = self._tail + data
        cut = data.rfind(b"\n\n")
        self._tail = data[cut + 2:] if cut >= 0 else data
        collector = self._collector
        for match in STAMP.finditer(data, 0, max(cut, 0)):
            collector.latencies_ns.append(now - int(match.group(1)))
            collector.events += 1
            collector.first_ns = collector.first_ns or now
            collector.last_ns = now

    def connection_lost(self, exc: Exception | None) -> None:
        self._collector.closed += 1


async def open_all(host: str, port: int, topic: str, count: int, collector: Collector) -> None:
    request = (f"GET /events?topic={quote(topic)} HTTP/1.1\r\nHost: {host}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(number: int) -> None:
        source = f"127.0.0.{2 + number // CONNECTIONS_PER_SOURCE_IP}"
        async with gate:
            opened: asyncio.Future[None] = loop.create_future()
            await loop.create_connection(lambda: Client(request, collector, opened), host, port,
                                         local_addr=(source, 0))
            await asyncio.wait_for(opened, 60)

    await asyncio.gather(*(one(number) for number in range(count)))


async def main(host: str, port: int, topic: str, count: int) -> None:
    collector = Collector()
    started = time.monotonic()
    await open_all(host, port, topic, count, collector)
    print(json.dumps({"ready": count, "connect_s": round(time.monotonic() - started, 2)}),
          flush=True)
    commands: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    threading.Thread(target=lambda: [loop.call_soon_threadsafe(commands.put_nowait, line.strip())
                                     for line in sys.stdin], daemon=True).start()
    while (command := await commands.get()) != "quit":
        result = collector.summary() if command == "report" else collector.reset()
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 5:  # another place for the stamp (bench.sql: the new value of a column)
        STAMP = re.compile(sys.argv[5].encode())
    raise_fd_limit()
    uvloop.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))

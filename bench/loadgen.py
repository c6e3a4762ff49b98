"""An open-loop HTTP/1.1 load generator: requests leave on a fixed schedule, whatever
the server's speed, and latency is measured from the *scheduled* send time (no
coordinated omission). Pre-built request bytes; keep-alive connections. Bench only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class OpenLoopResult:
    latencies_s: list[float] = field(default_factory=list)
    by_index: dict[int, float] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    reconnects: int = 0

    def percentile_ms(self, pct: float) -> float:
        ordered = sorted(self.latencies_s)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] * 1000


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _connection(host: str, port: int, queue: asyncio.Queue[tuple[int, float, bytes] | None],
                      result: OpenLoopResult, warmup: int) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    while (item := await queue.get()) is not None:
        index, scheduled, request = item
        try:
            writer.write(request)
            status = await _read_response(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            # The server closed an idle keep-alive connection: reconnect and resend.
            result.reconnects += 1
            writer.close()
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            status = await _read_response(reader)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if index >= warmup:
            result.latencies_s.append(time.perf_counter() - scheduled)
            result.by_index[index] = result.latencies_s[-1]
    writer.close()


async def run_open_loop(host: str, port: int, requests: Sequence[bytes], *, rate_per_s: float,
                        connections: int = 64, warmup: int = 0) -> OpenLoopResult:
    """Send every request in *requests* at *rate_per_s*, over *connections* connections;
    the first *warmup* requests (connection set-up, first requests) are not counted."""
    result = OpenLoopResult()
    queue: asyncio.Queue[tuple[int, float, bytes] | None] = asyncio.Queue()
    workers = [asyncio.create_task(_connection(host, port, queue, result, warmup))
               for _ in range(connections)]
    start = time.perf_counter()
    for index, request in enumerate(requests):
        scheduled = start + index / rate_per_s
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif index % 32 == 0:
            await asyncio.sleep(0)
        queue.put_nowait((index, scheduled, request))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return result

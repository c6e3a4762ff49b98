"""The ceiling: a minimal raw-asyncio SSE server (uvloop, asyncio.Protocol).

It does only what any SSE fan-out must: accept, answer the headers, follow the
same Redis Stream with one XREAD reader, encode each event once and write it
to every connection. No routing, auth, buffering or resume.

    python -m bench.raw_sse PORT REDIS_URL STREAM_KEY
"""

from __future__ import annotations

import asyncio
import sys

import redis
import redis.asyncio
import uvloop

from bench.fdlimit import raise_fd_limit
from common.redis import connect_async

HEADERS = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
           b"cache-control: no-cache\r\nconnection: keep-alive\r\n\r\nretry: 3000\n\n")
CLIENTS: set[asyncio.Transport] = set()


class SseProtocol(asyncio.Protocol):
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if b"\r\n\r\n" in data and self.transport not in CLIENTS:
            self.transport.write(HEADERS)
            CLIENTS.add(self.transport)

    def connection_lost(self, exc: Exception | None) -> None:
        CLIENTS.discard(self.transport)


def frame(position: bytes, fields: dict[bytes, bytes]) -> bytes:
    return b"id: %b\nevent: %b\ndata: %b\n\n" % (position, fields[b"type"], fields[b"e"])


async def follow(url: str, key: str) -> None:
    client = connect_async(url)
    newest = await client.xrevrange(key, count=1)
    last = newest[0][0] if newest else b"0-0"
    while True:
        try:
            reply = await client.xread({key: last}, block=5000, count=1000)
        except (redis.ConnectionError, redis.TimeoutError):
            continue
        for _stream, entries in reply or []:
            for position, fields in entries:
                last = position
                data = frame(position, fields)
                for transport in CLIENTS:
                    transport.write(data)


async def serve(port: int, url: str, key: str) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(SseProtocol, "127.0.0.1", port, backlog=4096)
    async with server:
        await follow(url, key)


if __name__ == "__main__":
    raise_fd_limit()
    uvloop.run(serve(int(sys.argv[1]), sys.argv[2], sys.argv[3]))

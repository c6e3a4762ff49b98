"""A small SSE reader for tests: parses a real HTTP stream into events, in a thread."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field

import httpx


@dataclass
class SseEvent:
    id: str | None = None
    event: str | None = None
    data: str = ""
    retry: int | None = None
    comments: list[str] = field(default_factory=list)


def parse_lines(lines):
    """Yield `SseEvent`s from an iterator of decoded lines (without line endings)."""
    current = SseEvent()
    data_lines: list[str] = []
    for line in lines:
        if line == "":
            if data_lines or current.id or current.event or current.retry or current.comments:
                current.data = "\n".join(data_lines)
                yield current
            current, data_lines = SseEvent(), []
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "":
            current.comments.append(value)
        elif name == "data":
            data_lines.append(value)
        elif name == "id":
            current.id = value
        elif name == "event":
            current.event = value
        elif name == "retry":
            current.retry = int(value)


class SseReader:
    """Opens a stream in a background thread; events land in `self.events` (a queue)."""

    def __init__(self, url: str, *, params=None, headers=None, cookies=None) -> None:
        self.events: queue.Queue[SseEvent] = queue.Queue()
        self.status: int | None = None
        self.body: bytes = b""
        self.ended = threading.Event()
        self.connected = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None), cookies=cookies)
        self._request = self._client.build_request("GET", url, params=params, headers=headers)
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._response = self._client.send(self._request, stream=True)
            self.status = self._response.status_code
            if self.status != 200:
                self.body = self._response.read()
                return
            for event in parse_lines(self._response.iter_lines()):
                if event.retry is not None:
                    self.connected.set()
                self.events.put(event)
        except (httpx.HTTPError, RuntimeError):
            pass
        finally:
            self.connected.set()
            self.ended.set()

    def wait_connected(self, timeout_s: float = 10.0) -> SseReader:
        assert self.connected.wait(timeout_s), "stream did not open"
        assert self.status == 200, (self.status, self.body)
        return self

    def next_event(self, timeout_s: float = 10.0, *, skip_comments: bool = True) -> SseEvent:
        while True:
            event = self.events.get(timeout=timeout_s)
            if skip_comments and event.id is None and event.event is None:
                continue
            return event

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
        self._client.close()
        self._thread.join(timeout=5)

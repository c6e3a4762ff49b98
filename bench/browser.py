"""Browser benchmark: client.js against the native EventSource, same run, same streamer.

    flock /tmp/hookstream-bench.lock .venv/bin/python -m bench.browser

Starts an embedded Valkey, one uvicorn streamer and Debian's headless Chromium
(Playwright, `/usr/bin/chromium`). For each client in turn (client.js, then
`new EventSource(...)` in a fresh page) it publishes RATE_PER_S events for
DURATION_S with the real `EventLog.publish` and reports, as measured in the page:

- delivered, lost and duplicated events (by log position);
- delivery latency, ``Date.now() - Date.parse(event.time)`` (publish time, ms);
- responsiveness: the lag of a 20 ms `setTimeout` probe (how late the page's
  own timers fire while events pour in: p99/max) and the long tasks (> 50 ms)
  Chromium's PerformanceObserver reported.

Then a down server: a local HTTP server answering 502 to every ``/events``
request, watched for DOWN_WATCH_S with client.js's default back-off (1 s base,
30 s cap, full jitter): how many requests it got.

Results go to bench/results/browser.txt.
"""

from __future__ import annotations

import os
import platform
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any, ClassVar

import redis

from common.events import Event
from common.publishing import EventLog
from common.settings import EventLogSettings
from hookstream import processes
from hookstream.embedded import EmbeddedRedis, free_port
from hookstream.supervisor import Supervisor, wait_http_ok

RATE_PER_S = 1000
DURATION_S = 10.0
TOPIC = "bench/browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
STREAMER_CONFIG = """
log_level = "warning"
log_format = "json"
[streamer]
public_topics = ["bench/#"]
"""
RESULTS = Path(__file__).parent / "results" / "browser.txt"
DOWN_WATCH_S = 60.0

# In the page: a 20 ms timer probe and a long-task observer, then the client.
PROBE_JS = """() => {
  Object.assign(window, { seen: new Set(), dups: 0, latencies: [], lags: [], longTasks: [] });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(entry.duration);
  }).observe({ type: "longtask" });
  let due = performance.now() + 20;
  const probe = () => { const now = performance.now(); lags.push(now - due);
                        due = now + 20; setTimeout(probe, 20); };
  setTimeout(probe, 20);
  window.record = (position, time) => {
    if (seen.has(position)) dups++; else seen.add(position);
    latencies.push(Date.now() - Date.parse(time));
  };
}"""
CLIENT_JS = """async (topic) => {
  const { connect } = await import("/client.js");
  const stream = connect({ topics: [topic] });
  stream.on("*", (data, event) => record(event.position, event.time));
  await new Promise((resolve) => stream.onStatus((s) => s === "open" && resolve()));
}"""
EVENT_SOURCE_JS = """async (topic) => {
  const source = new EventSource("/events?topic=" + encodeURIComponent(topic));
  source.addEventListener("bench.tick", (message) => {
    const event = JSON.parse(message.data);
    record(message.lastEventId, event.time);
  });
  await new Promise((resolve) => { source.onopen = resolve; });
}"""
SUMMARY_JS = """() => {
  const q = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : 0;
  };
  return { delivered: seen.size, dups, positions: [...seen],
           p50: q(latencies, 0.5), p99: q(latencies, 0.99), max: Math.max(0, ...latencies),
           lagP99: q(lags, 0.99), lagMax: Math.max(0, ...lags),
           longTasks: longTasks.length, longTaskMs: longTasks.reduce((a, b) => a + b, 0) };
}"""


def publish_paced(log: EventLog, *, rate_per_s: int, duration_s: float) -> tuple[list[str], float]:
    positions: list[str] = []
    total = int(rate_per_s * duration_s)
    start = time.perf_counter()
    for number in range(total):
        wait_s = start + number / rate_per_s - time.perf_counter()
        if wait_s > 0:
            time.sleep(wait_s)
        event = Event(topic=TOPIC, type="bench.tick", data={"n": number}, source="bench")
        positions.append(log.publish(event).position)
    return positions, total / (time.perf_counter() - start)


def measure(browser: Any, url: str, log: EventLog, setup_js: str) -> dict[str, Any]:
    page = browser.new_page()
    try:
        page.goto(f"{url}/healthz")
        page.evaluate(PROBE_JS)
        page.evaluate(setup_js, TOPIC)
        positions, rate = publish_paced(log, rate_per_s=RATE_PER_S, duration_s=DURATION_S)
        try:
            page.wait_for_function(f"window.seen.size >= {len(positions)}", timeout=15_000)
        except Exception as exc:  # report the shortfall rather than crash
            print(f"  (not all delivered: {type(exc).__name__})")
        summary: dict[str, Any] = page.evaluate(SUMMARY_JS)
    finally:
        page.close()
    got = set(summary.pop("positions"))
    summary.update(published=len(positions), publish_rate=rate,
                   lost=sum(1 for position in positions if position not in got))
    return summary


class DownServer(BaseHTTPRequestHandler):
    """Serves a page and client.js; answers every /events request 502, counting them."""

    requests: ClassVar[list[float]] = []
    client_js = (files("streamer") / "static" / "client.js").read_bytes()

    def do_GET(self) -> None:
        if self.path.startswith("/events"):
            self.requests.append(time.monotonic())
            body, status, media_type = b"", 502, "text/plain"
        elif self.path == "/client.js":
            body, status, media_type = self.client_js, 200, "text/javascript"
        else:
            body, status, media_type = b"<!doctype html><title>down</title>", 200, "text/html"
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def down_server_requests(browser: Any) -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), DownServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page()
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        page.evaluate("""async () => {
          const { connect } = await import("/client.js");
          connect({ topics: ["a"] });
        }""")
        page.wait_for_timeout(DOWN_WATCH_S * 1000)
        return len(DownServer.requests)
    finally:
        page.close()
        server.shutdown()
        server.server_close()


def report(rows: dict[str, dict[str, Any]], loadavg: tuple[float, ...]) -> str:
    lines = [
        f"# bench.browser: {RATE_PER_S} events/s for {DURATION_S:.0f} s into one page",
        f"# {platform.platform()}, Python {platform.python_version()}, Chromium "
        f"(Debian, headless), load average before {loadavg[0]:.2f}",
        f"{'client':<14}{'published':>10}{'rate/s':>8}{'delivered':>10}{'lost':>6}{'dups':>6}"
        f"{'lat p50':>9}{'p99':>7}{'max':>7}{'lag p99':>9}{'max':>7}{'long tasks':>12}",
    ]
    for name, row in rows.items():
        lines.append(
            f"{name:<14}{row['published']:>10}{row['publish_rate']:>8.0f}{row['delivered']:>10}"
            f"{row['lost']:>6}{row['dups']:>6}{row['p50']:>7}ms{row['p99']:>5}ms"
            f"{row['max']:>5}ms{row['lagP99']:>7.0f}ms{row['lagMax']:>5.0f}ms"
            f"{row['longTasks']:>5} ({row['longTaskMs']:.0f} ms)")
    lines.append("# latency: now - event.time (publish) in the page; lag: how late a 20 ms timer "
                 "fired (page responsiveness); long tasks: > 50 ms main-thread tasks")
    return "\n".join(lines) + "\n"


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "valkey", durable=False).start()
        config = Path(tmp) / "streamer.toml"
        config.write_text(STREAMER_CONFIG)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKSTREAM_")}
        env.update(HOOKSTREAM_CONFIG=str(config), HOOKSTREAM_REDIS_URL=server.url)
        supervisor = Supervisor(env, log_dir=tmp, restart=False)
        port = free_port()
        supervisor.start("streamer", processes.streamer(port))
        url = f"http://127.0.0.1:{port}"
        try:
            wait_http_ok(f"{url}/readyz")
            log = EventLog(redis.Redis.from_url(server.url), EventLogSettings(max_len=1_000_000))
            loadavg = os.getloadavg()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                rows = {"client.js": measure(browser, url, log, CLIENT_JS),
                        "EventSource": measure(browser, url, log, EVENT_SOURCE_JS)}
                down = down_server_requests(browser)
                browser.close()
        finally:
            supervisor.stop()
            server.stop()
    text = report(rows, loadavg) + (
        f"# down server (502 to everything) watched {DOWN_WATCH_S:.0f} s with client.js's "
        f"default back-off: {down} requests\n")
    print(text, end="")
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()

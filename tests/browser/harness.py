"""Drive `client.js` in a real page: load it from the server under test, record what it does."""

from __future__ import annotations

from typing import Any

# Runs in the page: imports client.js from the page's origin and records every
# event id, status change (with Date.now()) and reset step in window globals.
SETUP_JS = """async (o) => {
  const { connect } = await import("/client.js");
  Object.assign(window, { got: [], statuses: [], steps: [], tokens: 0 });
  const options = { ...o.connect };
  if (o.mint) options.getToken = async () => { window.tokens++; return await window.mint(); };
  const stream = window.stream = connect(options);
  stream.on("*", (data, event) => {
    got.push(event.position);
    steps.push("event " + event.position);
  });
  stream.onStatus((status, info) => statuses.push({ status, at: Date.now(), ...info }));
  if (o.throwingReset) stream.onReset(() => { steps.push("reset threw"); throw new Error("x"); });
  if (o.holdReset) stream.onReset(async () => {
    steps.push("reset start");
    await new Promise((resolve) => { window.releaseReset = resolve; });
    steps.push("reset end");
  });
}"""

SET_HIDDEN_JS = """(hidden) => {
  const state = hidden ? "hidden" : "visible";
  for (const [name, value] of [["hidden", hidden], ["visibilityState", state]])
    Object.defineProperty(document, name, { configurable: true, get: () => value });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


class ClientPage:
    def __init__(self, page: Any) -> None:
        self.page = page

    def start(self, origin: str, *, path: str = "/healthz", mint: bool = False,
              hold_reset: bool = False, throwing_reset: bool = False,
              **options: Any) -> ClientPage:
        self.page.goto(f"{origin}{path}")
        self.page.evaluate(SETUP_JS, {"connect": options, "mint": mint, "holdReset": hold_reset,
                                      "throwingReset": throwing_reset})
        return self

    def value(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def wait(self, expression: str, *, timeout_s: float = 20.0) -> Any:
        return self.page.wait_for_function(expression, timeout=timeout_s * 1000).json_value()

    def wait_status(self, status: str, *, timeout_s: float = 20.0) -> None:
        self.wait(f"window.stream.status === {status!r}", timeout_s=timeout_s)

    def wait_got(self, count: int, *, timeout_s: float = 20.0) -> list[str]:
        self.wait(f"window.got.length >= {count}", timeout_s=timeout_s)
        return self.value("window.got")

    def statuses(self) -> list[dict[str, Any]]:
        return self.value("window.statuses")

    def set_hidden(self, hidden: bool) -> None:
        self.page.evaluate(SET_HIDDEN_JS, hidden)

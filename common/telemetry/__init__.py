"""Telemetry: every process reports the figures it knows to Redis; the dashboard merges them.

- `figures`: the `Figure` value, the `Figures` protocol (what a process knows,
  read at each report) and the names the dashboard reads;
- `reporter`: `Telemetry` (a process's figures: set gauges, counted totals and
  registered sources) and the loops that write them every ``report_interval_s``
  (a thread for dramatiq and the scheduler, a task for the ASGI servers);
- `keys`: the Redis names (an index of live reporters, one hash per reporter);
- `board`: reads the live reports and merges them into one view with rates.

See docs/dashboard.md for the figure names and how to report a new one.
"""

from common.telemetry.figures import Figure, Figures, FixedFigures, Merge, figure
from common.telemetry.reporter import AsyncReporter, Recorder, Telemetry, ThreadReporter

__all__ = ["AsyncReporter", "Figure", "Figures", "FixedFigures", "Merge", "Recorder",
           "Telemetry", "ThreadReporter", "figure"]

"""`hookstream worker`: N supervised ``dramatiq --processes 1`` processes
(``python -m workers.main``: dramatiq's command line with hookstream's logging).

The ``dramatiq`` command stops every worker process when one dies; here each
worker process has its own ``dramatiq`` parent under a `Supervisor`, so a dead
one (SIGKILL, OOM) is restarted alone while the others keep working. The
messages it held come back through the janitor (`workers.brokers.redis.janitor`). SIGTERM or
SIGINT stops them all gracefully. With ``[workers] metrics_port`` set, the
worker-tier metrics (`workers.metrics`) are served from this process.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Mapping, Sequence

from common.redis import connect
from common.settings import Settings
from hookstream.supervisor import Supervisor
from workers.deadletters import DeadLetters
from workers.metrics import WorkerCollector, serve_metrics

STOP_MARGIN_S = 5.0


def dramatiq_argv(*, threads: int, modules: Sequence[str], shutdown_timeout_s: float) -> list[str]:
    return [sys.executable, "-m", "workers.main", "--processes", "1", "--threads", str(threads),
            "--worker-shutdown-timeout", str(int(shutdown_timeout_s * 1000)), *modules]


def run_workers(settings: Settings, *, env: Mapping[str, str], processes: int, threads: int,
                modules: Sequence[str], shutdown_timeout_s: float) -> int:
    """Run *processes* workers, each started with *env* (the settings' environment)."""
    supervisor = Supervisor(env, restart=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    argv = dramatiq_argv(threads=threads, modules=modules, shutdown_timeout_s=shutdown_timeout_s)
    for index in range(processes):
        supervisor.start(f"worker-{index}", argv)
    if settings.workers.metrics_port:
        _serve_metrics(settings, supervisor, settings.workers.metrics_port)
    while not stop.wait(1.0):
        pass
    supervisor.stop(timeout_s=shutdown_timeout_s + STOP_MARGIN_S)
    return 0


def _serve_metrics(settings: Settings, supervisor: Supervisor, port: int) -> None:
    workers = settings.workers
    client = connect(settings.require_redis_url())
    queues = workers.queues
    collector = WorkerCollector(
        client, DeadLetters(client, workers.namespace, queues), workers.namespace, queues,
        restarts=lambda: sum(child.restarts for child in supervisor.children.values()))
    serve_metrics(collector, port)

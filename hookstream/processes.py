"""The process types, as the command lines the Procfile, `hookstream dev` and the
integration tests all run. Each names its composition root and nothing else."""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Ports:
    ingress: int = 8000
    streamer: int = 8001
    airtable: int = 8003  # the Airtable emulator `hookstream dev` runs for its demo


INGRESS_WORKER_CLASS = "uvicorn_worker.UvicornWorker"
INGRESS_LOGGER_CLASS = "api.serverlog.StructuredLogger"


def ingress(port: int, *, host: str = "127.0.0.1", workers: int = 2,
            graceful_timeout_s: int = 10) -> list[str]:
    """gunicorn manages the processes; each runs the ASGI app on uvicorn (uvloop, httptools)."""
    return [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}",
            "--workers", str(workers), "--worker-class", INGRESS_WORKER_CLASS,
            "--graceful-timeout", str(graceful_timeout_s), "--no-control-socket",
            "--logger-class", INGRESS_LOGGER_CLASS, "api.app:get_app()"]


def worker(*, processes: int = 1, threads: int = 4,
           modules: tuple[str, ...] = ("workers.actors",)) -> list[str]:
    """Supervised dramatiq processes (`hookstream worker`): a dead one is restarted alone."""
    return [sys.executable, "-m", "hookstream", "worker", "--processes", str(processes),
            "--threads", str(threads), *modules]


def scheduler() -> list[str]:
    """The periodic-job scheduler (`hookstream scheduler`); a Redis lease keeps it single."""
    return [sys.executable, "-m", "hookstream", "scheduler"]


def streamer(port: int, *, host: str = "127.0.0.1", graceful_timeout_s: int = 5) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--factory", "streamer.app:get_app",
            "--host", host, "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--timeout-graceful-shutdown", str(graceful_timeout_s)]


def airtable_emulator(port: int, *, wire_url: str, churn_s: float | None = 3.0) -> list[str]:
    """The local Airtable base of the demo: the emulator, a webhook pinging *wire_url*,
    and (with *churn_s*) a person changing a record every *churn_s* seconds."""
    churn = [] if churn_s is None else ["--churn-s", str(churn_s)]
    return [sys.executable, "-m", "hookstream", "airtable", "emulator", "--seed", "demo",
            "--port", str(port), "--wire", wire_url, *churn]


def all_processes(ports: Ports) -> dict[str, list[str]]:
    return {"ingress": ingress(ports.ingress), "worker": worker(), "scheduler": scheduler(),
            "streamer": streamer(ports.streamer)}

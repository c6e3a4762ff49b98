"""Periodic jobs: the registry the scheduler fires from, one entry per job name.

The interval of each comes from ``[workers.schedule]`` (a field per job name).
A job is a callable: a local sweep (the janitor runs in the scheduler process)
or a job sent to an actor through `common.jobs.JobSender` (its work runs on a
worker, with its retries; the scheduler never imports the actors).
The SQL readers are not periodic jobs: they run in threads of the scheduler
process, each under its own lease (`workers.scheduler.start_sql_readers`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from common.errors import ConfigError
from common.jobs import JobSender
from common.settings import ScheduleSettings, WorkerSettings

# Periodic jobs that run on a worker: the actor of each name (workers.actors) on the periodic queue.
ACTOR_JOBS = ("trim_event_log", "refresh_airtable_webhooks", "poll_airtable_webhooks")


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    interval_s: float
    run: Callable[[], object]


def periodic_jobs(schedule: ScheduleSettings,
                  runs: Mapping[str, Callable[[], object]]) -> list[PeriodicJob]:
    """One `PeriodicJob` per scheduled name; each name must have something to run."""
    intervals = schedule.model_dump()
    missing = sorted(set(intervals) - set(runs))
    if missing:
        raise ConfigError(f"workers.schedule.{missing[0]}: no job of that name is registered")
    return [PeriodicJob(name, float(interval_s), runs[name])
            for name, interval_s in sorted(intervals.items())]


def actor_jobs(settings: WorkerSettings, jobs: JobSender) -> dict[str, Callable[[], object]]:
    """A ``run`` per actor job: send it, by name, to the periodic queue."""
    return {name: partial(jobs.send, settings.periodic_queue, name, ()) for name in ACTOR_JOBS}


def check_actor_jobs(actor_names: Iterable[str]) -> None:
    """Every actor job the scheduler sends by name must be an actor the workers declare."""
    unknown = sorted(set(ACTOR_JOBS) - set(actor_names))
    if unknown:
        raise ConfigError(f"periodic actor job {unknown[0]!r} has no actor of that name")

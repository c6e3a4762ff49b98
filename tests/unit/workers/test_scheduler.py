"""Lease and scheduler on a real Valkey: one scheduler fires, however many run."""

import time

from workers.leases import LOST, Lease
from workers.periodic import PeriodicJob, periodic_jobs
from workers.scheduler import Scheduler, create_scheduler

LOCK, SCHEDULE = "hookstream:__scheduler__", "hookstream:__schedule__"


def lease(client, holder, ttl_s=10):
    return Lease(client, LOCK, holder=holder, ttl_s=ttl_s)


def test_only_one_holder_at_a_time_and_fences_grow(redis_client):
    first, second = lease(redis_client, "a"), lease(redis_client, "b")
    assert first.acquire() and not second.acquire()
    assert redis_client.get(LOCK) == b"a/1"
    first.release()
    assert second.acquire()
    assert redis_client.get(LOCK) == b"b/2"
    assert first.renew() is False


def test_a_holder_that_lost_its_lease_cannot_fire(redis_client):
    holder = lease(redis_client, "a")
    assert holder.acquire()
    assert holder.claim(SCHEDULE, "job", 60) == 0
    assert 0 < holder.claim(SCHEDULE, "job", 60) <= 60_000  # not due again yet
    redis_client.set(LOCK, "someone-else/9")
    assert holder.claim(SCHEDULE, "job", 0.001) == LOST
    assert not holder.held


def test_two_schedulers_fire_each_job_once_per_interval(redis_client):
    fired = []
    jobs = [PeriodicJob("tick", 3600, lambda: fired.append("tick"))]
    schedulers = [Scheduler(lease(redis_client, name), SCHEDULE, jobs, lease_ttl_s=10)
                  for name in ("a", "b")]
    for _ in range(5):
        for scheduler in schedulers:
            scheduler.step()
    assert fired == ["tick"]


def test_a_standby_takes_over_when_the_lease_expires(redis_client):
    fired = []
    jobs = [PeriodicJob("tick", 0.001, lambda: fired.append(1))]
    leader = Scheduler(lease(redis_client, "a"), SCHEDULE, jobs, lease_ttl_s=10)
    standby = Scheduler(lease(redis_client, "b"), SCHEDULE, jobs, lease_ttl_s=10)
    leader.step(), leader.step(), standby.step()
    assert fired and standby.fired["tick"] == 0
    redis_client.delete(LOCK)  # the leader died; its lease ran out
    time.sleep(0.01)  # past the job's 1 ms interval, however fast this machine is
    standby.step(), standby.step()
    assert standby.fired["tick"] == 1


def test_every_scheduled_job_needs_a_registered_run(make_settings):
    import pytest

    from common.errors import ConfigError
    from common.settings import ScheduleSettings

    with pytest.raises(ConfigError, match=r"workers\.schedule\.\w+: no job of that name"):
        periodic_jobs(ScheduleSettings(), {"janitor": lambda: None})


def test_create_scheduler_registers_the_janitor(make_settings, redis_url, redis_client):
    settings = make_settings(redis_url=redis_url)
    from workers.periodic import ACTOR_JOBS

    scheduler = create_scheduler(settings, client=redis_client, queues=["deliveries"],
                                 runs={name: lambda: None for name in ACTOR_JOBS})
    scheduler.step(), scheduler.step()
    assert scheduler.fired == {"janitor": 1, **dict.fromkeys(ACTOR_JOBS, 1)}


def test_actor_jobs_are_sent_to_the_periodic_queue_without_the_broker(make_settings, redis_client):
    import dramatiq

    from common.jobs import JobSender
    from workers.periodic import actor_jobs

    workers = make_settings().workers
    runs = actor_jobs(workers, JobSender(redis_client, namespace=workers.namespace))
    message_id = runs["trim_event_log"]()
    [queued] = redis_client.lrange(f"{workers.namespace}:{workers.periodic_queue}", 0, -1)
    assert queued.decode() == message_id
    raw = redis_client.hget(f"{workers.namespace}:{workers.periodic_queue}.msgs", message_id)
    message = dramatiq.Message.decode(raw)
    assert (message.actor_name, message.queue_name, message.args) == (
        "trim_event_log", workers.periodic_queue, ())


def test_importing_the_scheduler_imports_neither_the_actors_nor_the_broker():
    import subprocess
    import sys
    from pathlib import Path

    import workers.scheduler

    probe = ("import sys, workers.scheduler; "
             "print(sorted(m for m in sys.modules if m in ('workers.actors', 'workers.broker')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]"
    source = Path(workers.scheduler.__file__).read_text()
    assert "workers.actors" not in source
    assert "import actors" not in source


def test_an_actor_job_without_its_actor_is_refused():
    import pytest

    from common.errors import ConfigError
    from workers.periodic import ACTOR_JOBS, check_actor_jobs

    check_actor_jobs([*ACTOR_JOBS, "process_delivery"])
    with pytest.raises(ConfigError, match="trim_event_log"):
        check_actor_jobs([name for name in ACTOR_JOBS if name != "trim_event_log"])

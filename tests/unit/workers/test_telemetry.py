"""What worker and scheduler processes report: queue figures on Valkey, message counts."""

from types import SimpleNamespace

from common.telemetry.figures import DEAD_LETTERS, QUEUE_MESSAGES, WORKER_MESSAGES
from workers.telemetry import QueueFigures, SchedulerFigures, WorkerTelemetry, process_telemetry


def as_dict(figures):
    return {(f.name, f.labels, f.merge): f.value for f in figures}


def test_queue_depths_and_dead_letters_are_shared_figures(redis_client):
    redis_client.zadd("hookstream:deliveries.XQ", {"a": 1, "b": 2})
    redis_client.rpush("hookstream:periodic", "x")
    found = as_dict(QueueFigures(redis_client, "hookstream", ["periodic", "deliveries"]).figures())
    assert found == {
        (QUEUE_MESSAGES, (("queue", "deliveries"),), "last"): 0.0,
        (DEAD_LETTERS, (("queue", "deliveries"),), "last"): 2.0,
        (QUEUE_MESSAGES, (("queue", "periodic"),), "last"): 1.0,
        (DEAD_LETTERS, (("queue", "periodic"),), "last"): 0.0,
    }


def test_the_middleware_counts_messages_by_actor_and_outcome(make_settings, make_broker):
    middleware = WorkerTelemetry(make_settings())
    broker = make_broker()
    broker.add_middleware(middleware)
    message = SimpleNamespace(actor_name="process_delivery")
    middleware.after_process_message(broker, message)
    middleware.after_process_message(broker, message)
    middleware.after_process_message(broker, message, exception=ValueError("x"))
    middleware.after_skip_message(broker, message)
    found = as_dict(process_telemetry(broker).figures())
    labels = lambda outcome: (("actor", "process_delivery"), ("outcome", outcome))  # noqa: E731
    assert found[(WORKER_MESSAGES, labels("done"), "sum")] == 2.0
    assert found[(WORKER_MESSAGES, labels("failed"), "sum")] == 1.0
    assert found[(WORKER_MESSAGES, labels("skipped"), "sum")] == 1.0


def test_the_scheduler_reports_its_lease_and_jobs():
    scheduler = SimpleNamespace(leading=True, fired={"janitor": 4, "trim_event_log": 2})
    found = as_dict(SchedulerFigures(scheduler).figures())
    assert found == {("scheduler_leading", (), "sum"): 1.0,  # the janitor's count: no news
                     ("scheduler_jobs_total", (("job", "trim_event_log"),), "sum"): 2.0}


def test_queue_figures_are_read_at_most_every_interval(redis_client):
    figures = QueueFigures(redis_client, "hookstream", ["deliveries"], every_s=60)
    first = as_dict(figures.figures())
    redis_client.rpush("hookstream:deliveries", "m1")
    assert as_dict(figures.figures()) == first


def test_the_scheduler_reports_its_watches_lag(make_settings, redis_client):
    from domains.sqlwatch.keys import meta_key
    from workers.telemetry import report_scheduler

    settings = make_settings(dashboard={"reporting": False},
                             watches={"orders": {"url": "sqlite://", "table": "orders",
                                                 "key": "id", "topic": "sql/orders"}})
    redis_client.hset(meta_key("hookstream", "orders"), "lag_ms", 40)
    scheduler = SimpleNamespace(leading=False, fired={})
    found = as_dict(report_scheduler(settings, redis_client, scheduler).telemetry.figures())
    assert found[("sql_watch_lag_s", (("watch", "orders"),), "max")] == 0.04

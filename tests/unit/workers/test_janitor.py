"""The janitor requeues a dead worker's messages (with wake tokens) and spares live ones."""

from dramatiq.message import Message

from workers.brokers.redis import Janitor

NS = "hookstream"


def message_on(queue):
    return Message(queue_name=queue, actor_name="noop", args=(), kwargs={}, options={})


def take_one(broker, queue):
    broker.enqueue(message_on(queue))
    [data] = broker.fetch(queue, 1)
    return Message.decode(data).options["redis_message_id"]


def test_messages_of_a_silent_worker_go_back_with_wake_tokens(make_broker, worker_settings,
                                                              redis_client):
    dead, alive = make_broker(), make_broker()
    lost = take_one(dead, "q")
    kept = take_one(alive, "q")
    redis_client.zadd(f"{NS}:__heartbeats__", {dead.broker_id: 1})  # silent since 1970
    settings = worker_settings().workers
    sweep = Janitor(redis_client, settings, ["q"]).sweep()
    assert (sweep.dead_workers, sweep.requeued) == (1, 1)
    assert redis_client.lrange(f"{NS}:q", 0, -1) == [lost.encode()]
    assert redis_client.llen(f"{NS}:q.wake") == 1
    assert redis_client.zscore(f"{NS}:__heartbeats__", dead.broker_id) is None
    assert redis_client.exists(f"{NS}:__acks__.{dead.broker_id}.q") == 0
    assert redis_client.smembers(f"{NS}:__acks__.{alive.broker_id}.q") == {kept.encode()}


def test_a_second_sweep_finds_nothing_to_do(make_broker, worker_settings, redis_client):
    dead = make_broker()
    take_one(dead, "q")
    redis_client.zadd(f"{NS}:__heartbeats__", {dead.broker_id: 1})
    janitor = Janitor(redis_client, worker_settings().workers, ["q"])
    assert janitor.sweep().requeued == 1
    assert janitor.sweep().requeued == 0


def test_dead_letters_older_than_their_ttl_are_dropped(worker_settings, redis_client):
    settings = worker_settings(dead_letter_ttl_s=60).workers
    redis_client.zadd(f"{NS}:q.XQ", {"old": 1, "new": 9_999_999_999_999})
    redis_client.hset(f"{NS}:q.XQ.msgs", mapping={"old": "x", "new": "y"})
    Janitor(redis_client, settings, ["q", "q.DQ"]).sweep()
    assert redis_client.zrange(f"{NS}:q.XQ", 0, -1) == [b"new"]
    assert redis_client.hkeys(f"{NS}:q.XQ.msgs") == [b"new"]


def test_a_fetch_indexes_the_queue_and_a_reap_forgets_the_index(make_broker, worker_settings,
                                                                 redis_client):
    dead = make_broker()
    lost = take_one(dead, "elsewhere")  # not a configured queue: found through the index only
    index = f"{NS}:__queues__.{dead.broker_id}"
    assert redis_client.smembers(index) == {b"elsewhere"}
    redis_client.zadd(f"{NS}:__heartbeats__", {dead.broker_id: 1})
    sweep = Janitor(redis_client, worker_settings().workers, ["q"]).sweep()
    assert (sweep.dead_workers, sweep.requeued) == (1, 1)
    assert redis_client.lrange(f"{NS}:elsewhere", 0, -1) == [lost.encode()]
    assert redis_client.exists(index, f"{NS}:__acks__.{dead.broker_id}.elsewhere") == 0


def test_a_worker_that_beats_again_before_the_reap_is_left_alone(make_broker, worker_settings,
                                                                 redis_client, monkeypatch):
    worker = make_broker()
    kept = take_one(worker, "q")
    redis_client.zadd(f"{NS}:__heartbeats__", {worker.broker_id: 1})
    janitor = Janitor(redis_client, worker_settings().workers, ["q"])
    silent = janitor._silent_workers

    def then_beats(now_ms):
        found = silent(now_ms)
        worker.heartbeat.beat()  # between the janitor's read and its script
        return found

    monkeypatch.setattr(janitor, "_silent_workers", then_beats)
    assert janitor.sweep().dead_workers == 0
    assert redis_client.smembers(f"{NS}:__acks__.{worker.broker_id}.q") == {kept.encode()}
    assert redis_client.llen(f"{NS}:q") == 0


def test_no_lua_script_lists_or_scans_the_keyspace():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    call = re.compile(r"""redis\.call\(\s*['"](keys|scan)['"]""", re.IGNORECASE)
    offenders = [str(path.relative_to(root))
                 for package in ("api", "common", "workers", "streamer", "hookstream")
                 for path in (root / package).rglob("*.py") if call.search(path.read_text())]
    assert offenders == []

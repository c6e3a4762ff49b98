"""A worker process's dependencies: one object, built on first use, closed at shutdown."""

import os

import pytest
from dramatiq.brokers.stub import StubBroker

from workers.context import ProcessContext, WorkerContext


@pytest.fixture
def settings(make_settings, redis_url):
    return make_settings(redis_url=redis_url)


def test_the_context_is_built_once_on_first_use(settings):
    built = []

    def build():
        built.append(WorkerContext.connect(settings))
        return built[-1]

    holder = ProcessContext(build)
    assert built == []
    first = holder.get()
    assert holder.get() is first
    assert built == [first]
    assert first.redis.ping()
    assert first.event_log.stream_key == settings.events.stream_key
    holder.after_worker_shutdown(None, None)
    assert holder.get() is not first


def test_the_broker_carries_it(settings):
    broker = StubBroker()
    holder = ProcessContext(lambda: WorkerContext.connect(settings))
    broker.add_middleware(holder)
    assert ProcessContext.of(broker) is holder
    with pytest.raises(LookupError):
        ProcessContext.of(StubBroker())


def test_a_forked_child_builds_its_own(settings):
    holder = ProcessContext(lambda: WorkerContext.connect(settings))
    parent = holder.get()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, b"new" if holder.get() is not parent else b"same")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 8) == b"new"

"""The supervisor restarts a child killed with SIGKILL, and stops everything it started."""

import os
import signal
import subprocess
import sys
import time

from hookstream.supervisor import Supervisor
from hookstream.workerpool import dramatiq_argv

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def wait_for(predicate, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_sigkilled_child_is_restarted_alone():
    supervisor = Supervisor(dict(os.environ))
    victim = supervisor.start("victim", SLEEPER)
    bystander = supervisor.start("bystander", SLEEPER)
    try:
        first_pid, bystander_pid = victim.process.pid, bystander.process.pid
        os.kill(first_pid, signal.SIGKILL)
        wait_for(lambda: victim.restarts == 1 and victim.process.poll() is None)
        assert victim.process.pid != first_pid
        assert bystander.process.pid == bystander_pid and bystander.restarts == 0
    finally:
        supervisor.stop(timeout_s=5)
    assert all(child.process.poll() is not None for child in supervisor.children.values())


def test_a_child_that_keeps_dying_backs_off():
    supervisor = Supervisor(dict(os.environ))
    child = supervisor.start("crasher", [sys.executable, "-c", "raise SystemExit(3)"])
    try:
        wait_for(lambda: child.restarts >= 2)
        assert child.delay_s > 0.5
    finally:
        supervisor.stop(timeout_s=5)


def test_each_worker_process_is_its_own_single_process_dramatiq():
    argv = dramatiq_argv(threads=8, modules=["workers.actors"], shutdown_timeout_s=30)
    assert argv[1:] == ["-m", "workers.main", "--processes", "1", "--threads", "8",
                        "--worker-shutdown-timeout", "30000", "workers.actors"]


PARENT = """
import os, sys, time
from hookstream.supervisor import Supervisor
child = Supervisor(dict(os.environ)).start("sleeper", sys.argv[1:])
print(child.process.pid, flush=True)
time.sleep(120)
"""


def test_children_stop_when_the_supervisor_is_sigkilled():
    parent = subprocess.Popen([sys.executable, "-c", PARENT, *SLEEPER], stdout=subprocess.PIPE,
                              text=True)
    child_pid = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    wait_for(lambda: not _alive(child_pid), timeout_s=10)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waits for init to reap it: it has stopped
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False

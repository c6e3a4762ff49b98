"""Test-only actor middleware, loaded into a worker under test as an extra dramatiq module.

A webhook whose body has ``"pause": "before"`` (or ``"after"``) holds its
``process_delivery`` job before (or after) it publishes, the first time only,
so a test can SIGKILL the worker process mid-job. Every run is recorded.
Production never imports this module.
"""

from __future__ import annotations

import os
import time
from typing import Any

import orjson
from dramatiq import Middleware

from workers.broker import broker, context

PAUSE_S = 120


def runs_key(event_id: str) -> str:
    return f"test:runs:{event_id}"


def paused_key(event_id: str) -> str:
    return f"test:paused:{event_id}"


class PauseOnce(Middleware):
    def before_process_message(self, broker: Any, message: Any) -> None:
        if message.actor_name == "process_delivery":
            context().redis.rpush(runs_key(message.args[1]), os.getpid())
            self._pause(message, "before")

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: Any = None) -> None:
        if message.actor_name == "process_delivery":
            self._pause(message, "after")

    def _pause(self, message: Any, stage: str) -> None:
        body = orjson.loads(message.args[2])
        event_id = message.args[1]
        if body.get("pause") == stage and context().redis.set(paused_key(event_id), os.getpid(),
                                                              nx=True):
            time.sleep(PAUSE_S)


broker.add_middleware(PauseOnce())

"""Bench worker module for hookstream: the production actors and broker, plus the bench actors."""

from __future__ import annotations

from bench.worker_actors import declare
from workers import actors as production  # installs hookstream's broker

broker = production.broker
actors = declare(broker, periodic=False)

"""Shared core: settings, logging, Redis, the Event envelope, topics and publishing.

Depends on nothing else in the project; `api`, `workers` and `streamer` depend on it.
"""

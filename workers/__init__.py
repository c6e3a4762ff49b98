"""Dramatiq workers: the broker (`workers.broker`) and the actors (`workers.actors`).

Run with ``dramatiq workers.actors``.
"""

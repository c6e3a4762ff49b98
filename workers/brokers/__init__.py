"""Dramatiq brokers, the machinery below the actors (one today, on Redis)."""

"""Falcon resources, one per concern."""

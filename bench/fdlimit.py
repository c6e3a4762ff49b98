"""Raise RLIMIT_NOFILE so one process can hold tens of thousands of sockets."""

from __future__ import annotations

import resource


def raise_fd_limit(wanted: int = 120_000) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for target in (wanted, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(target, hard)))
            return target
        except (ValueError, OSError):
            continue
    return soft

"""Errors raised by `common`.

HookstreamError
 ├── ConfigError          bad or missing configuration (raised at start-up)
 ├── InvalidTopic         a topic or pattern that breaks the grammar in `topics`
 ├── TemplateError        a topic/type template names a field the payload lacks
 ├── EventLogUnavailable  Redis could not take or give events (transient)
 │    └── ReplicasBehind  the primary's replicas did not confirm a write in time
 └── GrantRefused         a token or topic refused, with its HTTP status (common/grants.py)
"""

from __future__ import annotations


class HookstreamError(Exception):
    """Base of every error hookstream raises on purpose."""


class ConfigError(HookstreamError):
    """Configuration that cannot work; the message names the key and the fix."""


class InvalidTopic(HookstreamError):
    """A topic name or subscription pattern outside the grammar."""


class TemplateError(HookstreamError):
    """A template refers to something the payload does not have."""


class EventLogUnavailable(HookstreamError):
    """The Redis event log did not answer; the caller may retry."""



class ReplicasBehind(EventLogUnavailable):
    """Fewer replicas than the primary has confirmed a write within the timeout: it may be
    lost in a failover, so nothing that depends on it may happen yet (the caller retries)."""

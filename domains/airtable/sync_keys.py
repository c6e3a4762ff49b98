"""Redis key names of the Airtable change sync and webhook lifecycle, under the namespace.

One webhook's lease, cursor and pending flag share the hash tag ``{airtable-hook:<id>}``
(the cursor advance checks the lease in one script). ``table_generation_key`` and
``stats_key`` are the read cache's and the domain's shared keys: the same names as
``domains/airtable/keys.py`` on the writes branch (the lead folds the two modules).
"""

from __future__ import annotations


def _hook_tag(webhook_id: str) -> str:
    return f"{{airtable-hook:{webhook_id}}}"


def cursor_key(namespace: str, webhook_id: str) -> str:
    """The cursor of the next webhook payload to process (Airtable's, starts at 1)."""
    return f"{namespace}:{_hook_tag(webhook_id)}:cursor"


def lease_key(namespace: str, webhook_id: str) -> str:
    """Held by the one worker processing this webhook's payloads."""
    return f"{namespace}:{_hook_tag(webhook_id)}:lease"


def pending_key(namespace: str, webhook_id: str) -> str:
    """Set by every ping; the lease holder runs again while it finds it set."""
    return f"{namespace}:{_hook_tag(webhook_id)}:pending"


def webhooks_key(namespace: str) -> str:
    """Hash webhook id -> JSON {base, table, notification_url, expiration_time, mac_secret}:
    the MAC secret store the ingress verifier reads, and what the refresher walks."""
    return f"{namespace}:airtable:webhooks"


def schema_key(namespace: str, base: str) -> str:
    """One base's schema as JSON: table id -> {name, fields: {field id: name}}."""
    return f"{namespace}:airtable:schema:{base}"


def snapshot_key(namespace: str, base: str, table_id: str) -> str:
    """Hash record id -> JSON cells by field id: the last known records of one table."""
    return f"{namespace}:airtable:snapshot:{base}:{table_id}"


def table_generation_key(namespace: str, base: str, table_id: str) -> str:
    """A counter INCRed on every change of a table: the read cache keys its entries by it."""
    return f"{namespace}:airtable:gen:{base}:{table_id}"


def stats_key(namespace: str) -> str:
    """One hash of the domain's counters."""
    return f"{namespace}:{{airtable}}:stats"


def lifecycle_key(namespace: str) -> str:
    """Hash webhook id -> JSON of its last lifecycle problem (expired, deleted, refresh failed)."""
    return f"{namespace}:airtable:webhook-problems"

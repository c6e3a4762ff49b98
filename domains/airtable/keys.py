"""Redis key names of the Airtable domain, all under the configured namespace.

Keys a Lua script touches together share a hash tag, so they live in one slot:
``{airtable}`` for the request budget, pauses and stats; ``{airtable-job:<id>}``
for one write job's state, input, chunk progress and results;
``{airtable-hook:<id>}`` for one webhook's lease, cursor and pending flag (the
cursor advance checks the lease in one script).
"""

from __future__ import annotations

BUDGET_TAG = "{airtable}"


# -- request budget, pauses, stats ---------------------------------------------------------

def base_budget_key(namespace: str, base: str) -> str:
    """The next free request slot (theoretical arrival time, µs) of one base."""
    return f"{namespace}:{BUDGET_TAG}:budget:base:{base}"


def token_budget_key(namespace: str, token_id: str) -> str:
    """The request slots taken by one API token in the last second and ahead (a sorted set;
    *token_id* is a digest, never the token)."""
    return f"{namespace}:{BUDGET_TAG}:budget:token:{token_id}"


def base_sent_key(namespace: str, base: str) -> str:
    """When the base's requests of the last second were really sent (a sorted set)."""
    return f"{namespace}:{BUDGET_TAG}:sent:{base}"


def base_pause_key(namespace: str, base: str) -> str:
    """Present (with a TTL) while a base is paused after a 429."""
    return f"{namespace}:{BUDGET_TAG}:pause:{base}"


def stats_key(namespace: str) -> str:
    """One hash of counters: requests granted per base, waits, 429s, pauses, cache hits."""
    return f"{namespace}:{BUDGET_TAG}:stats"


# -- read cache ------------------------------------------------------------------------------

def table_generation_key(namespace: str, base: str, table_id: str) -> str:
    """A counter INCRed on every change of a table (change sync and our own writes)."""
    return f"{namespace}:airtable:gen:{base}:{table_id}"


def cache_entry_key(namespace: str, base: str, table_id: str, generation: int,
                    digest: str) -> str:
    return f"{namespace}:airtable:cache:{base}:{table_id}:{generation}:{digest}"


def table_names_key(namespace: str, base: str) -> str:
    """Hash of table name -> table id of one base (for reads that name a table)."""
    return f"{namespace}:airtable:tables:{base}"


# -- write jobs ------------------------------------------------------------------------------

def _job_tag(job_id: str) -> str:
    return f"{{airtable-job:{job_id}}}"


def job_key(namespace: str, job_id: str) -> str:
    """Hash: op, base, table, state, counts, times."""
    return f"{namespace}:{_job_tag(job_id)}:job"


def job_input_key(namespace: str, job_id: str) -> str:
    """The job's request body (records and options) as JSON."""
    return f"{namespace}:{_job_tag(job_id)}:input"


def job_chunks_key(namespace: str, job_id: str) -> str:
    """Hash: chunk index -> progress (JSON: sending since / done)."""
    return f"{namespace}:{_job_tag(job_id)}:chunks"


def job_results_key(namespace: str, job_id: str) -> str:
    """Hash: record index -> its result (JSON)."""
    return f"{namespace}:{_job_tag(job_id)}:results"


def job_lease_key(namespace: str, job_id: str) -> str:
    """Held by the one worker running the job (two messages for one job never run it twice)."""
    return f"{namespace}:{_job_tag(job_id)}:lease"


def idempotency_key(namespace: str, key_digest: str) -> str:
    """The job id a client's ``Idempotency-Key`` (as a digest) created."""
    return f"{namespace}:airtable:idempotency:{key_digest}"


# -- change sync and webhook lifecycle -------------------------------------------------------

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


def lifecycle_key(namespace: str) -> str:
    """Hash webhook id -> JSON of its last lifecycle problem (expired, deleted, refresh failed)."""
    return f"{namespace}:airtable:webhook-problems"

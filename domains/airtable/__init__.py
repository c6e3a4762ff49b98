"""The Airtable domain: budgeted API client, read-through cache, queued writes, change sync."""

"""A local Airtable-compatible server: real HTTP, Airtable's paths and JSON shapes.

Records CRUD with 10-record batches, upsert and typecast; listing with formulas,
sort, fields and offset pagination; the base schema; webhooks with payload cursors
and MAC-signed pings; 5 requests/s per base over any sliding second with a 429
penalty; and an admin API (``admin.py``) for changes "by a person", split
payloads, expiry, request counts and a movable clock.

    python -m domains.airtable.emulator --port 8090 --seed demo --penalty-s 2
"""

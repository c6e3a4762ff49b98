"""SQL change streaming: a table or query of any SQLAlchemy database, diffed into row events.

Modules: `settings`-driven `engines` (URL -> engine), `triggers` (change-log DDL per
dialect), `changelog` (reading the change log in commit order), `diff` (pure row
diffing), `rows` (reading a watch's rows), `state` (the last published rows in Redis,
snapshots), `applier` (events out, state in, in the safe order), `reader` (the one
loop per watch), `differ` (the worker-side diff job), `keys`, `jobs`, `errors`.
"""

"""The demo configuration `hookstream dev` writes on first run (fresh secrets each machine)."""

from __future__ import annotations

import secrets
from pathlib import Path

from api.verifiers.standard import new_secret
from domains.sqlwatch import demo

DEMO_SOURCE = "demo"
AIRTABLE_SOURCE = "airtable"
PLAIN_SOURCE = "plain"
AIRTABLE_PORT = 8003


def demo_config_text(*, state_dir: Path | None = None,
                     airtable_port: int = AIRTABLE_PORT) -> str:
    """The demo config; with *state_dir*, also the SQLite trips demo (``demo.db`` there).

    Every source has a demo: the signed demo webhook, a Plain support thread
    (``plain/thread/{threadId}``) and the local Airtable base (the emulator
    `hookstream dev` runs on *airtable_port*; the secrets of its webhook are in
    Redis, stored by the emulator's ``--wire``).

    The trips page is served by the ingress (port 8000) and streams from the
    streamer, so the streamer allows that origin.
    """
    cors = "" if state_dir is None else (
        'cors_origins = ["http://127.0.0.1:8000", "http://localhost:8000"]\n')
    sql_demo = "" if state_dir is None else demo.demo_watch_toml(state_dir.resolve() / "demo.db")
    return f"""# Written by `hookstream dev` on first run; edit freely, it is not overwritten.
# Every key can be overridden by an environment variable: HOOKSTREAM_REDIS_URL,
# HOOKSTREAM_STREAMER__HEARTBEAT_S, HOOKSTREAM_SOURCES__DEMO__SECRETS, ...

[streamer]
public_topics = ["webhooks/#", "demo/#", "airtable/#", "plain/#"]
heartbeat_s = 15
{cors}
[ingress]
publish_keys = ["{secrets.token_urlsafe(24)}"]

[dashboard]
admin_token = "{secrets.token_urlsafe(24)}"

[sources.{DEMO_SOURCE}]
kind = "standard-webhooks"
secrets = ["{new_secret()}"]
topic = "webhooks/{{source}}"

[sources.{PLAIN_SOURCE}]
kind = "plain"
secrets = ["{secrets.token_hex(32)}"]
topic = "plain/thread/{{payload.thread.id}}"

[sources.{AIRTABLE_SOURCE}]
kind = "airtable"

[airtable]
api_url = "http://127.0.0.1:{airtable_port}"
token = "{secrets.token_urlsafe(24)}"
{sql_demo}"""


def ensure_demo_config(state_dir: Path, *, airtable_port: int = AIRTABLE_PORT) -> Path:
    path = state_dir / "dev.toml"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(demo_config_text(state_dir=state_dir, airtable_port=airtable_port),
                        encoding="utf-8")
        path.chmod(0o600)
    return path

"""The demo configuration `hookstream dev` writes on first run (fresh secrets each machine)."""

from __future__ import annotations

import secrets
from pathlib import Path

from api.verifiers.standard import new_secret
from domains.sqlwatch import demo

DEMO_SOURCE = "demo"


def demo_config_text(*, state_dir: Path | None = None) -> str:
    """The demo config; with *state_dir*, also the SQLite trips demo (``demo.db`` there).

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
public_topics = ["webhooks/#", "demo/#"]
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
{sql_demo}"""


def ensure_demo_config(state_dir: Path) -> Path:
    path = state_dir / "dev.toml"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(demo_config_text(state_dir=state_dir), encoding="utf-8")
        path.chmod(0o600)
    return path

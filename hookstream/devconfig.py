"""The demo configuration `hookstream dev` writes on first run (fresh secrets each machine)."""

from __future__ import annotations

import secrets
from pathlib import Path

from api.verifiers.standard import new_secret

DEMO_SOURCE = "demo"


def demo_config_text() -> str:
    return f"""# Written by `hookstream dev` on first run; edit freely, it is not overwritten.
# Every key can be overridden by an environment variable: HOOKSTREAM_REDIS_URL,
# HOOKSTREAM_STREAMER__HEARTBEAT_S, HOOKSTREAM_SOURCES__DEMO__SECRETS, ...

[streamer]
public_topics = ["webhooks/#", "demo/#"]
heartbeat_s = 15
admin_token = "{secrets.token_urlsafe(18)}"   # GET /dashboard?token=...

[ingress]
publish_keys = ["{secrets.token_urlsafe(24)}"]

[sources.{DEMO_SOURCE}]
kind = "standard-webhooks"
secrets = ["{new_secret()}"]
topic = "webhooks/{{source}}"
"""


def ensure_demo_config(state_dir: Path) -> Path:
    path = state_dir / "dev.toml"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(demo_config_text(), encoding="utf-8")
        path.chmod(0o600)
    return path

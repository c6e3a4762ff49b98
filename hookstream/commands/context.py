"""`CliContext`: what every command gets as ``ctx.obj``.

It holds the environment the command runs in and the settings read from it, once,
on first use (so ``--help`` and `hookstream dev` never read a config). Commands
never write to ``os.environ``: a child process that needs the configuration is
given `CliContext.env` explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from common.settings import Settings

CONFIG_ENV = "HOOKSTREAM_CONFIG"
DEFAULT_STATE_DIR = Path(".hookstream")
DEV_CONFIG_NAME = "dev.toml"


class CliContext:
    """The environment of one command and its settings, loaded lazily and once.

    ``inherited`` is the environment the command was started with; ``environ`` is
    that plus ``--config``; ``env`` is ``environ`` falling back to the config
    `hookstream dev` wrote in ``.hookstream/`` when no config is named, so the
    operating commands work beside a running ``hookstream dev``.
    """

    def __init__(self, inherited: Mapping[str, str], *, config: Path | None = None,
                 state_dir: Path = DEFAULT_STATE_DIR) -> None:
        self.inherited: Mapping[str, str] = dict(inherited)
        self.environ: Mapping[str, str] = _with_config(self.inherited, config)
        self.env: Mapping[str, str] = _with_dev_config(self.environ, state_dir)

    @classmethod
    def for_settings(cls, settings: Settings) -> CliContext:
        """A context whose settings are given, not read (tests, embedding)."""
        context = cls({}, state_dir=Path("/nonexistent/hookstream"))  # no dev config found
        context.__dict__["settings"] = settings  # what `settings` caches
        return context

    @cached_property
    def settings(self) -> Settings:
        """The settings from `env`; raises `ConfigError` (exit 2) on a bad configuration."""
        from common.settings import load_settings

        return load_settings(self.env)

    def settings_logged(self, process: str = "cli") -> Settings:
        """`settings`, with this command's logs routed as a process's are (level and
        format from the settings, secrets redacted), for commands that run domain code."""
        from common.logs import configure_logging

        settings = self.settings
        configure_logging(settings, process=process)
        return settings

    @property
    def env_is_inherited(self) -> bool:
        """Whether this process's own environment already is `env`."""
        return self.env == self.inherited


def _with_config(environ: Mapping[str, str], config: Path | None) -> dict[str, str]:
    env = dict(environ)
    if config is not None:
        env[CONFIG_ENV] = str(config)
    return env


def _with_dev_config(environ: Mapping[str, str], state_dir: Path) -> dict[str, str]:
    env = dict(environ)
    dev_config = state_dir / DEV_CONFIG_NAME
    if not env.get(CONFIG_ENV) and dev_config.exists():
        env[CONFIG_ENV] = str(dev_config)
    return env

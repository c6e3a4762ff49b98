"""Per-actor retry and time-limit policy.

Defaults from ``[workers]``, overrides from ``[workers.actors.NAME]``.

`actor_options` turns a policy into dramatiq actor options: Retries' back-off
(exponential from ``min_backoff_s``, jittered, capped at ``max_backoff_s``),
``max_retries``, TimeLimit's ``time_limit``, and ``throws=Permanent`` so
permanent failures skip the retries and go straight to the dead letters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from common.errors import ConfigError
from common.settings import WorkerSettings
from workers.errors import Permanent


@dataclass(frozen=True, slots=True)
class ActorPolicy:
    max_retries: int
    time_limit_s: float
    min_backoff_s: float
    max_backoff_s: float


def policy_for(settings: WorkerSettings, actor_name: str) -> ActorPolicy:
    """The actor's overrides over the [workers] defaults (settings checked their back-off)."""
    override = settings.actors.get(actor_name)
    return ActorPolicy(
        max_retries=_pick(override and override.max_retries, settings.max_retries),
        time_limit_s=_pick(override and override.time_limit_s, settings.time_limit_s),
        min_backoff_s=_pick(override and override.min_backoff_s, settings.min_backoff_s),
        max_backoff_s=_pick(override and override.max_backoff_s, settings.max_backoff_s),
    )


def actor_options(settings: WorkerSettings, actor_name: str) -> dict[str, Any]:
    policy = policy_for(settings, actor_name)
    return {
        "actor_name": actor_name,
        "max_retries": policy.max_retries,
        "time_limit": int(policy.time_limit_s * 1000),
        "min_backoff": int(policy.min_backoff_s * 1000),
        "max_backoff": int(policy.max_backoff_s * 1000),
        "throws": (Permanent,),
    }


def check_actor_names(settings: WorkerSettings, declared: Iterable[str]) -> None:
    """Fail at start-up on ``[workers.actors.NAME]`` sections that name no actor."""
    unknown = sorted(set(settings.actors) - set(declared))
    if unknown:
        raise ConfigError(f"workers.actors.{unknown[0]}: no such actor "
                          f"(actors: {', '.join(sorted(declared))})")


def _pick(value: Any, default: Any) -> Any:
    return default if value is None else value

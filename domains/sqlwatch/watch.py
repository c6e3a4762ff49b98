"""One configured watch and the parts built from its settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import redis
import sqlalchemy as sa

from common.settings import EventLogSettings, WatchSettings
from domains.sqlwatch.diff import Shape
from domains.sqlwatch.engines import create_engine, dialect_of
from domains.sqlwatch.errors import UnknownWatch
from domains.sqlwatch.state import WatchState


@dataclass(frozen=True)
class Watch:
    name: str
    config: WatchSettings

    @property
    def shape(self) -> Shape:
        columns = tuple(self.config.columns) if self.config.columns is not None else None
        return Shape(self.name, tuple(self.config.key), self.config.topic, columns)

    @property
    def url(self) -> str:
        return self.config.url.get_secret_value()

    @property
    def dialect(self) -> str:
        return dialect_of(self.url)

    @property
    def is_query(self) -> bool:
        return self.config.query is not None

    def engine(self, *, pre_ping: bool = True) -> sa.Engine:
        return create_engine(self.url, pre_ping=pre_ping)

    def state(self, client: redis.Redis, namespace: str, events: EventLogSettings
              ) -> WatchState:
        return WatchState(client, namespace, self.name, stream_key=events.stream_key)


def find_watch(watches: Mapping[str, WatchSettings], name: str) -> Watch:
    config = watches.get(name)
    if config is None:
        known = ", ".join(sorted(watches)) or "none configured"
        raise UnknownWatch(f"no watch named {name!r} ([watches.{name}]); known: {known}")
    return Watch(name, config)

"""What every command gets: the resolved settings and, on demand, the store."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from migrator.settings import Settings
from migrator.store.database import open_engine
from migrator.store.snapshots import SnapshotStore


@dataclass
class AppState:
    settings: Settings
    _store: SnapshotStore | None = field(default=None, repr=False)

    @property
    def store(self) -> SnapshotStore:
        if self._store is None:
            self._store = SnapshotStore(open_engine(self.settings))
        return self._store


def state(ctx: typer.Context) -> AppState:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState), "the root callback sets the state"
    return obj

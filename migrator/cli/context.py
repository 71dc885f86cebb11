"""What every command gets: the resolved settings and, on demand, the stores (one engine)."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer
from sqlalchemy.engine import Engine

from migrator.settings import Settings
from migrator.store.database import open_engine
from migrator.store.flows import FlowStore
from migrator.store.plans import PlanStore
from migrator.store.snapshots import SnapshotStore


@dataclass
class AppState:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.settings)
        return self._engine

    @property
    def store(self) -> SnapshotStore:
        return SnapshotStore(self.engine)

    @property
    def flows(self) -> FlowStore:
        return FlowStore(self.engine)

    @property
    def plans(self) -> PlanStore:
        return PlanStore(self.engine)


def state(ctx: typer.Context) -> AppState:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState), "the root callback sets the state"
    return obj

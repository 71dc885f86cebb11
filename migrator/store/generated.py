"""Generated waves: what `migrator plan` wrote, with its validation diagnostics."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from migrator.errors import StoreError
from migrator.store.models import GeneratedWave
from migrator.store.snapshots import _table
from migrator.timefmt import iso_utc

GENERATED = _table(GeneratedWave)


class GeneratedStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, record: GeneratedWave) -> None:
        try:
            with Session(self.engine) as session, session.begin():
                session.add(record)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the generated wave: {type(exc).__name__}") from None

    def latest(self, plan_id: int, target: str) -> list[dict[str, Any]]:
        """The newest record per wave for one plan and target."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(GeneratedWave)
                .where(GENERATED.c.plan_id == plan_id, GENERATED.c.target == target)
                .order_by(GENERATED.c.id)
            ).all()
        newest: dict[int, GeneratedWave] = {row.wave: row for row in rows}
        return [
            {**row.model_dump(exclude={"created_at"}), "created_at": iso_utc(row.created_at)}
            for _, row in sorted(newest.items())
        ]

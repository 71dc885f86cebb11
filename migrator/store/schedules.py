"""Stored wave schedules: every `migrator schedule` run of a plan; the newest one is the plan's schedule."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from migrator.errors import StoreError
from migrator.store.models import WaveSchedule
from migrator.store.snapshots import _table, now
from migrator.timefmt import iso_utc

SCHEDULES = _table(WaveSchedule)


class ScheduleStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, plan_id: int, inputs: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
        """Store a schedule of a plan; the stored document carries its id and time."""
        created = now()
        try:
            with Session(self.engine) as session, session.begin():
                record = WaveSchedule(plan_id=plan_id, created_at=created, inputs=inputs, document={})
                session.add(record)
                session.flush()
                doc = {**document, "schedule": {"id": record.id, "created_at": iso_utc(created)}}
                record.document = doc
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the schedule: {type(exc).__name__}") from None
        return doc

    def latest(self, plan_id: int) -> dict[str, Any] | None:
        """The newest schedule of a plan, or None."""
        stmt = select(SCHEDULES.c.document).where(SCHEDULES.c.plan_id == plan_id)
        with self.engine.connect() as conn:
            row = conn.execute(stmt.order_by(SCHEDULES.c.id.desc()).limit(1)).first()
        return None if row is None else dict(row[0])

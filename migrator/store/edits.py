"""Stored plan edits (docs/edits.md): each edit's JSON form, its provenance and its status.

The store keeps edits as data; their meaning (waves/edits.py) is the layers above. A refused
edit is kept with the diagnostics that refused it, a reverted one with when: nothing is deleted,
so `migrator edits list` is the whole history of changes to the generated plan.
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from migrator.errors import NotFound, StoreError
from migrator.store.models import PlanEdit
from migrator.store.snapshots import _table, now
from migrator.timefmt import iso_utc

EDITS = _table(PlanEdit)
STATUSES = ("applied", "refused", "reverted")
PIN_AUTHOR = "waves pin"


def as_dict(row: PlanEdit) -> dict[str, Any]:
    """An edit as `edits list|show --format json` print it (docs/edits.md)."""
    data = row.model_dump(exclude={"created_at", "changed_at"})
    data["created_at"] = iso_utc(row.created_at)
    data["changed_at"] = iso_utc(row.changed_at) if row.changed_at else None
    return data


def pin_edit(vm: str, wave: int) -> PlanEdit:
    """The edit row `waves pin` writes beside wave_pins (the planner reads wave_pins)."""
    edit = {"version": 1, "kind": "wave-pin", "vm": vm, "wave": wave}
    return PlanEdit(
        created_at=now(), kind="wave-pin", vm=vm, wave=wave, edit=edit, source="pin", who=PIN_AUTHOR
    )


class EditStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, record: PlanEdit) -> dict[str, Any]:
        try:
            with Session(self.engine) as session, session.begin():
                session.add(record)
                session.flush()
                return as_dict(record)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the edit: {type(exc).__name__}") from None

    def list(self, status: str | None = None) -> list[dict[str, Any]]:
        stmt = select(PlanEdit).order_by(EDITS.c.id)
        if status is not None:
            stmt = stmt.where(EDITS.c.status == status)
        with Session(self.engine) as session:
            return [as_dict(row) for row in session.scalars(stmt)]

    def get(self, edit_id: int) -> dict[str, Any]:
        with Session(self.engine) as session:
            row = session.get(PlanEdit, edit_id)
            if row is None:
                raise NotFound(f"no plan edit with id {edit_id}")
            return as_dict(row)

    def set_status(
        self, edit_id: int, status: str, diagnostics: builtins.list[dict[str, Any]] | None = None
    ) -> None:
        """Refuse or revert an edit (migrator.app.edits also unpins a reverted pin)."""
        assert status in STATUSES
        values: dict[str, Any] = {"status": status, "changed_at": now()}
        if diagnostics is not None:
            values["diagnostics"] = diagnostics
        try:
            with self.engine.begin() as conn:
                conn.execute(update(EDITS).where(EDITS.c.id == edit_id).values(**values))
        except SQLAlchemyError as exc:
            raise StoreError(f"could not update edit {edit_id}: {type(exc).__name__}") from None

"""Stored wave plans and architects' pins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from migrator.errors import NotFound, StoreError
from migrator.store.edits import EDITS, pin_edit
from migrator.store.models import WavePin, WavePlanRecord
from migrator.store.snapshots import _table, now
from migrator.timefmt import iso_utc

PLANS = _table(WavePlanRecord)
PINS = _table(WavePin)


class PlanStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, snapshot_id: int, parameters: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
        """Store a plan; the stored document carries its id, time and snapshot."""
        created = now()
        try:
            with Session(self.engine) as session, session.begin():
                record = WavePlanRecord(
                    snapshot_id=snapshot_id, created_at=created, parameters=parameters, document={}
                )
                session.add(record)
                session.flush()
                assert record.id is not None
                doc = dict(document)
                doc["plan"] = {
                    **document["plan"],
                    "id": record.id,
                    "created_at": iso_utc(created),
                    "snapshot_id": snapshot_id,
                }
                record.document = doc
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the plan: {type(exc).__name__}") from None
        return doc

    def get(self, plan_id: int | None = None) -> dict[str, Any]:
        with Session(self.engine) as session:
            if plan_id is not None:
                record = session.get(WavePlanRecord, plan_id)
                if record is None:
                    raise NotFound(f"no wave plan with id {plan_id}")
            else:
                record = session.scalars(select(WavePlanRecord).order_by(PLANS.c.id.desc())).first()
                if record is None:
                    raise NotFound("no wave plan yet: run `migrator waves plan`")
            return dict(record.document)

    def stamp(self, plan_id: int | None = None) -> tuple[int, str] | None:
        """A plan's (id, creation time) without its document (None: the latest); None when absent.
        Plans never change once stored: the pair identifies a document for a cache."""
        stmt = select(PLANS.c.id, PLANS.c.created_at)
        stmt = stmt.where(PLANS.c.id == plan_id) if plan_id is not None else stmt.order_by(PLANS.c.id.desc())
        with self.engine.connect() as conn:
            row = conn.execute(stmt.limit(1)).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def ids(self) -> list[int]:
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(select(PLANS.c.id).order_by(PLANS.c.id))]

    def summaries(self) -> list[dict[str, Any]]:
        out = []
        with Session(self.engine) as session:
            for record in session.scalars(select(WavePlanRecord).order_by(PLANS.c.id)):
                doc = record.document
                out.append(
                    {
                        "id": record.id,
                        "created_at": iso_utc(record.created_at),
                        "snapshot_id": record.snapshot_id,
                        "waves": len(doc.get("waves", [])),
                        "vms": sum(len(w["vms"]) for w in doc.get("waves", [])),
                        "unplaced": len(doc.get("unplaced", [])),
                        "cross_wave_bytes": doc.get("cross_wave", {}).get("bytes"),
                    }
                )
        return out

    # -- pins ----------------------------------------------------------------------------------
    def pins(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {vm: wave for vm, wave in conn.execute(select(PINS.c.vm, PINS.c.wave).order_by(PINS.c.vm))}

    def pin(self, vm: str, wave: int) -> None:
        """Pin a VM: wave_pins for the planner and a `wave-pin` edit (source pin), in one
        transaction; an earlier pin edit of the VM is reverted by it."""
        with Session(self.engine) as session, session.begin():
            existing = session.get(WavePin, vm)
            if existing is None:
                session.add(WavePin(vm=vm, wave=wave, created_at=now()))
            else:
                existing.wave = wave
                existing.created_at = now()
            session.execute(_revert_pin_edits(vm))
            session.add(pin_edit(vm, wave))

    def unpin(self, vm: str) -> bool:
        with self.engine.begin() as conn:
            conn.execute(_revert_pin_edits(vm))
            return bool(conn.execute(delete(PINS).where(PINS.c.vm == vm)).rowcount)


def _revert_pin_edits(vm: str) -> Any:
    return (
        update(EDITS)
        .where(EDITS.c.kind == "wave-pin", EDITS.c.vm == vm, EDITS.c.status == "applied")
        .values(status="reverted", changed_at=now())
    )

"""The estate's vCenters and the members of estate snapshots (tables `estate_vcenters`,
`estate_members`, revision 0015; docs/scale.md#multi-vcenter-estates)."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from migrator.errors import Conflict, NotFound, StoreError
from migrator.store.models import EstateMember, EstateVCenter
from migrator.store.snapshots import ESTATE, _table, now
from migrator.timefmt import iso_utc

VCENTERS = _table(EstateVCenter)
MEMBERS = _table(EstateMember)
SETTLED = ("complete", "failed", "interrupted")
ASSEMBLING = "assembling"  # an estate snapshot whose members are being combined


def vcenter_dict(row: EstateVCenter) -> dict[str, Any]:
    """A vCenter as `estate list --format json` prints it: where its password comes from, never it."""
    return {
        "name": row.name,
        "server": row.server,
        "user": row.username,
        "password_env": row.password_env,
        "password_file": row.password_file,
        "insecure": row.insecure,
        "thumbprint": row.thumbprint,
        "ca_file": row.ca_file,
        "created_at": iso_utc(row.created_at),
    }


def member_dict(row: EstateMember) -> dict[str, Any]:
    return {
        "vcenter": row.vcenter,
        "server": row.definition.get("server"),
        "status": row.status,
        "snapshot_id": row.snapshot_id,
        "instance_uuid": row.instance_uuid,
        "error": row.error,
        "finished_at": iso_utc(row.finished_at),
    }


class EstateStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- the estate's definition ---------------------------------------------------------------
    def add(self, row: EstateVCenter) -> dict[str, Any]:
        try:
            with Session(self.engine) as session, session.begin():
                session.add(row)
                session.flush()
                return vcenter_dict(row)
        except IntegrityError:
            raise Conflict(f"the estate already has a vCenter named {row.name!r}") from None
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the vCenter: {type(exc).__name__}") from None

    def list(self) -> builtins.list[dict[str, Any]]:
        with Session(self.engine) as session:
            return [vcenter_dict(r) for r in session.scalars(select(EstateVCenter).order_by(VCENTERS.c.name))]

    def remove(self, name: str) -> dict[str, Any]:
        with Session(self.engine) as session, session.begin():
            row = session.scalars(select(EstateVCenter).where(VCENTERS.c.name == name)).first()
            if row is None:
                raise NotFound(f"the estate has no vCenter named {name!r}")
            gone = vcenter_dict(row)
            session.execute(delete(VCENTERS).where(VCENTERS.c.id == row.id))
            return gone

    # -- estate snapshots ----------------------------------------------------------------------
    def start(self, definitions: builtins.list[dict[str, Any]]) -> int:
        """A running estate snapshot with one pending member per vCenter, in one transaction."""
        from migrator.store.models import Snapshot

        with Session(self.engine) as session, session.begin():
            snap = Snapshot(source=ESTATE, server=f"estate of {len(definitions)} vCenters", started_at=now())
            session.add(snap)
            session.flush()
            assert snap.id is not None
            for definition in definitions:
                session.add(
                    EstateMember(
                        estate_snapshot_id=snap.id, vcenter=definition["name"], definition=definition
                    )
                )
            return snap.id

    def members(self, estate_snapshot_id: int) -> builtins.list[EstateMember]:
        stmt = select(EstateMember).where(MEMBERS.c.estate_snapshot_id == estate_snapshot_id)
        with Session(self.engine) as session:
            return builtins.list(session.scalars(stmt.order_by(MEMBERS.c.vcenter)))

    def member(self, estate_snapshot_id: int, vcenter: str) -> EstateMember:
        for row in self.members(estate_snapshot_id):
            if row.vcenter == vcenter:
                return row
        raise NotFound(f"estate snapshot {estate_snapshot_id} has no vCenter named {vcenter!r}")

    def claim(self, estate_snapshot_id: int) -> bool:
        """Whether this caller settles the estate snapshot: every member settled, and it is the
        one whose conditional update moved the snapshot from running to assembling (a second
        caller's update matches no row, in PostgreSQL too: the row lock re-checks the status)."""
        from migrator.store.snapshots import RUNNING, SNAPSHOTS

        with self.engine.begin() as conn:
            open_members = conn.execute(
                select(func.count())
                .select_from(MEMBERS)
                .where(MEMBERS.c.estate_snapshot_id == estate_snapshot_id, MEMBERS.c.status.not_in(SETTLED))
            ).scalar_one()
            if open_members:
                return False
            claimed = conn.execute(
                update(SNAPSHOTS)
                .where(SNAPSHOTS.c.id == estate_snapshot_id, SNAPSHOTS.c.status == RUNNING)
                .values(status=ASSEMBLING)
            )
            return claimed.rowcount == 1

    def release(self, estate_snapshot_id: int) -> None:
        """Give a claim back (assembling -> running) when combining failed, so that the next settle
        (a retried job, `discover --estate` again) can claim it instead of it waiting forever."""
        from migrator.store.snapshots import RUNNING, SNAPSHOTS

        with self.engine.begin() as conn:
            conn.execute(
                update(SNAPSHOTS)
                .where(SNAPSHOTS.c.id == estate_snapshot_id, SNAPSHOTS.c.status == ASSEMBLING)
                .values(status=RUNNING)
            )

    def mark(self, member_id: int, **values: Any) -> None:
        """Record a member's progress (status, snapshot id, error, instance UUID) in its own transaction."""
        if values.get("status") in SETTLED:
            values["finished_at"] = now()
        with self.engine.begin() as conn:
            conn.execute(update(MEMBERS).where(MEMBERS.c.id == member_id).values(**values))

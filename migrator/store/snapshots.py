"""Writing and reading inventory snapshots.

A run first records a `running` snapshot row (so even a crash leaves a trace), then writes
every inventory object and flips the status to `complete` in ONE transaction. A failure
rolls that transaction back and records `failed`/`interrupted` with the reason: earlier
snapshots are never touched, and a half-written snapshot never becomes visible.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import Table

from migrator.errors import NotFound, StoreError
from migrator.interrupts import pid_alive
from migrator.store.inventory import Inventory
from migrator.store.models import INVENTORY_TABLES, EstateMember, Snapshot, VMRecord

COMPLETE = "complete"
RUNNING = "running"
FAILED = "failed"
INTERRUPTED = "interrupted"
INCOMPLETE = "incomplete"  # an estate snapshot with a vCenter that failed (docs/scale.md)
ESTATE = "estate"  # the source of an estate snapshot: one complete snapshot per vCenter, combined

_BATCH = 2000


def _table(model: type) -> Table:
    """The Core table of a SQLModel class (typed column access for queries)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


SNAPSHOTS = _table(Snapshot)
MEMBERS = _table(EstateMember)


def now() -> datetime:
    return datetime.now(UTC)


class SnapshotStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writing ---------------------------------------------------------------------------
    def begin(self, source: str, server: str) -> int:
        """Record a running snapshot and return its id; mark crashed earlier runs as interrupted."""
        with self._session() as session:
            # An estate snapshot stays running while its vCenters are discovered, possibly by
            # other processes (jobs): its liveness is its members', not its writer's pid.
            running = select(Snapshot).where(SNAPSHOTS.c.status == RUNNING, SNAPSHOTS.c.source != ESTATE)
            for stale in session.scalars(running):
                if not pid_alive(stale.pid):
                    stale.status = INTERRUPTED
                    stale.error = stale.error or "the run ended without finishing (process gone)"
                    stale.finished_at = stale.finished_at or now()
                    session.add(stale)
            snap = Snapshot(source=source, server=server, started_at=now(), pid=os.getpid())
            session.add(snap)
            session.commit()
            assert snap.id is not None
            return snap.id

    def commit(self, snapshot_id: int, inventory: Inventory) -> None:
        """Store every object and mark the snapshot complete, atomically."""
        counts = inventory.counts()
        try:
            with self.engine.begin() as conn:
                for key, table in INVENTORY_TABLES.items():
                    rows = [
                        {"snapshot_id": snapshot_id, "moref": rec["moref"], "name": rec["name"], "data": rec}
                        for rec in getattr(inventory, key)
                    ]
                    for start in range(0, len(rows), _BATCH):
                        conn.execute(insert(_table(table)), rows[start : start + _BATCH])
                conn.execute(
                    update(SNAPSHOTS)
                    .where(SNAPSHOTS.c.id == snapshot_id)
                    .values(
                        status=COMPLETE,
                        finished_at=now(),
                        vm_count=counts["vms"],
                        host_count=counts["hosts"],
                        cluster_count=counts["clusters"],
                        network_count=counts["networks"],
                        datastore_count=counts["datastores"],
                        warnings=inventory.warnings,
                    )
                )
        except SQLAlchemyError as exc:
            self.fail(snapshot_id, FAILED, f"database write failed: {type(exc).__name__}")
            raise StoreError(f"could not store snapshot {snapshot_id}: {type(exc).__name__}") from None

    def fail(self, snapshot_id: int, status: str, reason: str) -> None:
        """Record why a run did not complete. Never raises: the original error matters more."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(SNAPSHOTS)
                    .where(SNAPSHOTS.c.id == snapshot_id)
                    .values(status=status, error=reason[:2000], finished_at=now())
                )
        except SQLAlchemyError:
            pass

    def fail_own_running(self, status: str, reason: str) -> None:
        """Record why this process's running snapshots stop: for an interruption that may land
        before the caller learned the id from `begin`. Never raises."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(SNAPSHOTS)
                    .where(SNAPSHOTS.c.status == RUNNING, SNAPSHOTS.c.pid == os.getpid())
                    .values(status=status, error=reason[:2000], finished_at=now())
                )
        except SQLAlchemyError:
            pass

    def interrupt_running(self, server: str, reason: str) -> None:
        """Mark the running discoveries of one vCenter interrupted: a retried job's earlier attempt,
        whose process died (its worker may be on another machine, where `begin` cannot ask)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(SNAPSHOTS)
                .where(
                    SNAPSHOTS.c.status == RUNNING,
                    SNAPSHOTS.c.source == "vcenter",
                    SNAPSHOTS.c.server == server,
                )
                .values(status=INTERRUPTED, error=reason[:2000], finished_at=now())
            )

    # -- reading ---------------------------------------------------------------------------
    def list(self) -> list[Snapshot]:
        with self._session() as session:
            return list(session.scalars(select(Snapshot).order_by(SNAPSHOTS.c.id)))

    def get(self, snapshot_id: int | None = None) -> Snapshot:
        """The given snapshot, or the latest complete one."""
        with self._session() as session:
            if snapshot_id is not None:
                snap = session.get(Snapshot, snapshot_id)
                if snap is None:
                    raise NotFound(f"no snapshot with id {snapshot_id}")
                return snap
            # one vCenter's part of an estate snapshot is never the default: its estate snapshot is
            members = select(MEMBERS.c.snapshot_id).where(MEMBERS.c.snapshot_id.is_not(None))
            stmt = (
                select(Snapshot)
                .where(SNAPSHOTS.c.status == COMPLETE, SNAPSHOTS.c.id.not_in(members))
                .order_by(SNAPSHOTS.c.id.desc())
            )
            snap = session.scalars(stmt).first()
            if snap is None:
                raise NotFound(
                    "no complete snapshot yet: run `migrator discover` or `migrator import rvtools`"
                )
            return snap

    def records(self, snapshot_id: int, kind: str) -> Iterator[dict[str, Any]]:
        t = _table(INVENTORY_TABLES[kind])
        with self.engine.connect() as conn:
            stmt = select(t.c.data).where(t.c.snapshot_id == snapshot_id).order_by(t.c.name, t.c.id)
            for (data,) in conn.execute(stmt):
                yield data

    def vm(self, snapshot_id: int, name: str) -> dict[str, Any]:
        t = _table(VMRecord)
        with self.engine.connect() as conn:
            exact = select(t.c.data).where(t.c.snapshot_id == snapshot_id, t.c.name == name)
            rows = [data for (data,) in conn.execute(exact)]
            if not rows:  # fall back to a case-insensitive match, if it is unambiguous
                loose = select(t.c.data).where(
                    t.c.snapshot_id == snapshot_id, func.lower(t.c.name) == name.lower()
                )
                rows = [data for (data,) in conn.execute(loose)]
                if len(rows) > 1:
                    raise NotFound(f"{len(rows)} VMs match {name!r} ignoring case; give the exact name")
        if not rows:
            raise NotFound(
                f"no VM named {name!r} in snapshot {snapshot_id}{self._estate_hint(snapshot_id, name)}"
            )
        return rows[0]

    def _estate_hint(self, snapshot_id: int, name: str) -> str:
        """In an estate snapshot a name that collides across vCenters is NAME@vcenter: say so."""
        t = _table(VMRecord)
        stmt = select(t.c.name).where(
            t.c.snapshot_id == snapshot_id, t.c.name.startswith(name + "@", autoescape=True)
        )
        with self.engine.connect() as conn:
            names = sorted(conn.execute(stmt.limit(6)).scalars())
        return f" (in its estate: {', '.join(repr(n) for n in names)})" if names else ""

    def _session(self) -> Session:
        return Session(self.engine)

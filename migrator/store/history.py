"""Utilisation history (tables `utilisation_samples`, `utilisation_runs`, revision 0018;
docs/scale.md#utilisation-history): the samples periodic discovery read, kept beyond vCenter's
own retention, one row per VM (vCenter instance UUID, moref) and timestamp."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from migrator.errors import StoreError
from migrator.store.models import UtilisationRun, UtilisationSample
from migrator.store.snapshots import _table, now

SAMPLES = _table(UtilisationSample)
RUNS = _table(UtilisationRun)
BATCH = 5000  # rows per INSERT: well under SQLite's and PostgreSQL's parameter limits


class HistoryStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, snapshot_id: int, vcenter_uuid: str, samples: dict[str, list[list[Any]]]) -> int:
        """Keep a discovery's samples (one transaction); a timestamp already kept for a VM is
        skipped. Returns how many samples the run brought."""
        rows = [
            {
                "vcenter_uuid": vcenter_uuid,
                "moref": moref,
                "at": datetime.fromtimestamp(at, UTC),
                "interval_s": interval,
                "cpu_pct": cpu,
                "mem_pct": mem,
            }
            for moref, series in samples.items()
            for at, interval, cpu, mem in series
        ]
        try:
            with self.engine.begin() as conn:
                for start in range(0, len(rows), BATCH):
                    self._insert_new(conn, rows[start : start + BATCH])
                conn.execute(
                    RUNS.insert().values(
                        snapshot_id=snapshot_id, vcenter_uuid=vcenter_uuid, samples=len(rows), at=now()
                    )
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot store the utilisation history: {type(exc).__name__}") from None
        return len(rows)

    @staticmethod
    def _insert_new(conn: Connection, rows: list[dict[str, Any]]) -> None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(SAMPLES).on_conflict_do_nothing(), rows)

    def source(self, snapshot_id: int) -> str | None:
        """The vCenter instance UUID of a snapshot whose discovery kept history (None: it did not)."""
        with self.engine.connect() as conn:
            found = conn.execute(select(RUNS.c.vcenter_uuid).where(RUNS.c.snapshot_id == snapshot_id))
            return found.scalar_one_or_none()

    def runs(self, vcenter_uuids: Iterable[str]) -> int:
        with self.engine.connect() as conn:
            stmt = select(func.count()).where(RUNS.c.vcenter_uuid.in_(list(vcenter_uuids)))
            return int(conn.execute(stmt).scalar_one())

    def samples(self, vcenter_uuids: Iterable[str]) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
        """(vCenter UUID, moref) -> [(at, interval s, cpu %, mem %)] in time order."""
        stmt = (
            select(SAMPLES.c.vcenter_uuid, SAMPLES.c.moref, SAMPLES.c.at, SAMPLES.c.interval_s)
            .add_columns(SAMPLES.c.cpu_pct, SAMPLES.c.mem_pct)
            .where(SAMPLES.c.vcenter_uuid.in_(list(vcenter_uuids)))
            .order_by(SAMPLES.c.vcenter_uuid, SAMPLES.c.moref, SAMPLES.c.at)
        )
        out: dict[tuple[str, str], list[tuple[Any, ...]]] = defaultdict(list)
        with self.engine.connect() as conn:
            for uuid, moref, at, interval, cpu, mem in conn.execute(stmt):
                at = at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite gives it back naive
                out[(uuid, moref)].append((at, interval, cpu, mem))
        return dict(out)

"""The findings cache (docs/dashboard.md): computed once per snapshot, target and policy bundle.

An entry holds the counts by severity; its findings are stored a row per VM (with findings), so
a wave page or a VM page reads only its own VMs' rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from migrator.errors import StoreError
from migrator.store.models import FindingsCacheEntry, FindingsCacheVM
from migrator.store.snapshots import _table, now

ENTRIES = _table(FindingsCacheEntry)
ROWS = _table(FindingsCacheVM)
_BATCH = 500  # rows per INSERT; also names per IN (...) when reading


@dataclass(frozen=True)
class CacheKey:
    snapshot_id: int
    target: str  # "any" when none was chosen
    bundle: str


@dataclass(frozen=True)
class CacheEntry:
    id: int
    counts: dict[str, int]  # severity -> number of findings


class FindingsCache:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def entry(self, key: CacheKey) -> CacheEntry | None:
        stmt = select(ENTRIES.c.id, ENTRIES.c.counts).where(
            (ENTRIES.c.snapshot_id == key.snapshot_id)
            & (ENTRIES.c.target == key.target)
            & (ENTRIES.c.bundle == key.bundle)
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else CacheEntry(int(row[0]), dict(row[1]))

    def latest_before(self, key: CacheKey) -> tuple[int, CacheEntry] | None:
        """The newest entry of an earlier snapshot for the same target and bundle, with its
        snapshot id (a new snapshot's evaluation reuses what did not change since)."""
        stmt = (
            select(ENTRIES.c.snapshot_id, ENTRIES.c.id, ENTRIES.c.counts)
            .where(
                (ENTRIES.c.snapshot_id < key.snapshot_id)
                & (ENTRIES.c.target == key.target)
                & (ENTRIES.c.bundle == key.bundle)
            )
            .order_by(ENTRIES.c.snapshot_id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else (int(row[0]), CacheEntry(int(row[1]), dict(row[2])))

    def findings(self, entry_id: int, vms: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The entry's findings, of every VM or only of the named ones."""
        with self.engine.connect() as conn:
            if vms is None:
                return self._rows(conn, entry_id, None)
            names = sorted(set(vms))
            out: list[dict[str, Any]] = []
            for start in range(0, len(names), _BATCH):
                out.extend(self._rows(conn, entry_id, names[start : start + _BATCH]))
            return out

    def _rows(self, conn: Connection, entry_id: int, names: list[str] | None) -> list[dict[str, Any]]:
        stmt = select(ROWS.c.findings).where(ROWS.c.entry_id == entry_id)
        if names is not None:
            stmt = stmt.where(ROWS.c.vm.in_(names))
        return [f for (found,) in conn.execute(stmt.order_by(ROWS.c.id)) for f in found]

    def put(self, key: CacheKey, counts: dict[str, int], by_vm: dict[str, list[dict[str, Any]]]) -> None:
        """Store an entry in one transaction; a concurrent writer of the same key wins (both
        computed the same findings)."""
        try:
            with self.engine.begin() as conn:
                inserted = conn.execute(
                    insert(ENTRIES).values(
                        snapshot_id=key.snapshot_id,
                        target=key.target,
                        bundle=key.bundle,
                        created_at=now(),
                        counts=counts,
                    )
                ).inserted_primary_key
                assert inserted is not None
                rows = [{"entry_id": inserted[0], "vm": vm, "findings": f} for vm, f in sorted(by_vm.items())]
                for start in range(0, len(rows), _BATCH):
                    conn.execute(insert(ROWS), rows[start : start + _BATCH])
        except IntegrityError:
            return
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the findings cache: {type(exc).__name__}") from None

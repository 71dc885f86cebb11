"""CMDB imports: one transaction per file; the latest import is the CMDB in use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from migrator.errors import StoreError
from migrator.store.models import CmdbImport, CmdbItem
from migrator.store.snapshots import _table, now
from migrator.timefmt import iso_utc

IMPORTS = _table(CmdbImport)
ITEMS = _table(CmdbItem)
_BATCH = 500


@dataclass
class Cmdb:
    """The configuration items of one import, by name (as written in the CMDB)."""

    import_id: int
    origin: str
    created_at: str
    columns: dict[str, str]
    items: dict[str, dict[str, Any]] = field(default_factory=dict)


class CmdbStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(
        self,
        origin: str,
        digest: str,
        columns: dict[str, str],
        items: list[dict[str, Any]],
        warnings: list[str],
    ) -> int:
        """Store one import and its items in one transaction; returns the import id."""
        try:
            with self.engine.begin() as conn:
                import_id = conn.execute(
                    insert(IMPORTS).values(
                        origin=origin,
                        digest=digest,
                        created_at=now(),
                        items=len(items),
                        columns=columns,
                        warnings=warnings,
                    )
                ).inserted_primary_key
                assert import_id is not None
                import_id = import_id[0]
                rows = [{"import_id": import_id, "name": item["name"], "data": item} for item in items]
                for start in range(0, len(rows), _BATCH):
                    conn.execute(insert(ITEMS), rows[start : start + _BATCH])
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the CMDB import: {type(exc).__name__}") from None
        return int(import_id)

    def latest_id(self) -> int | None:
        """The latest import's id without its items (None: no CMDB imported): a cache key."""
        with self.engine.connect() as conn:
            found = conn.execute(select(IMPORTS.c.id).order_by(IMPORTS.c.id.desc()).limit(1)).scalar()
        return None if found is None else int(found)

    def latest(self) -> Cmdb | None:
        """The latest import with its items, or None when no CMDB was imported."""
        with self.engine.connect() as conn:
            head = conn.execute(select(IMPORTS).order_by(IMPORTS.c.id.desc()).limit(1)).mappings().first()
            if head is None:
                return None
            cmdb = Cmdb(
                int(head["id"]), head["origin"], iso_utc(head["created_at"]) or "", dict(head["columns"])
            )
            stmt = select(ITEMS.c.data).where(ITEMS.c.import_id == head["id"]).order_by(ITEMS.c.id)
            for (data,) in conn.execute(stmt):
                cmdb.items[data["name"]] = data
            return cmdb

"""Storing flow evidence. Each import or collection is one flow set, written in one transaction."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from migrator.errors import NotFound, StoreError, UsageError
from migrator.flows.records import Flow, ReadResult
from migrator.store.models import FlowRow, FlowSet
from migrator.store.snapshots import _table, now

FLOW_SETS = _table(FlowSet)
FLOWS = _table(FlowRow)
_BATCH = 5000


class FlowStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, source: str, origin: str, result: ReadResult, replace: bool = False) -> FlowSet:
        """Store a flow set; `replace` drops earlier sets from the same origin in the same transaction."""
        digest = result.digest
        with Session(self.engine) as session:
            dup = session.scalars(select(FlowSet).where(FLOW_SETS.c.digest == digest)).first()
        if dup is not None and not replace:
            raise UsageError(
                f"{origin}: the same flows were already imported as flow set {dup.id} "
                "({replace} to re-import)",
                field="replace",
            )
        try:
            with self.engine.begin() as conn:
                if replace:
                    old = select(FLOW_SETS.c.id).where(
                        (FLOW_SETS.c.origin == origin) | (FLOW_SETS.c.digest == digest)
                    )
                    old_ids = [row[0] for row in conn.execute(old)]
                    conn.execute(delete(FLOWS).where(FLOWS.c.flow_set_id.in_(old_ids)))
                    conn.execute(delete(FLOW_SETS).where(FLOW_SETS.c.id.in_(old_ids)))
                inserted = conn.execute(
                    insert(FLOW_SETS).values(
                        source=source,
                        origin=origin,
                        digest=digest,
                        created_at=now(),
                        records=len(result.flows),
                        malformed=result.malformed,
                        clamped=result.clamped,
                        warnings=result.warnings,
                    )
                ).inserted_primary_key
                assert inserted is not None
                set_id = int(inserted[0])
                rows = [_row(set_id, flow) for flow in result.flows]
                for start in range(0, len(rows), _BATCH):
                    conn.execute(insert(FLOWS), rows[start : start + _BATCH])
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store flows from {origin}: {type(exc).__name__}") from None
        return self.get(int(set_id))

    def get(self, set_id: int) -> FlowSet:
        with Session(self.engine) as session:
            found = session.get(FlowSet, set_id)
        if found is None:
            raise NotFound(f"no flow set with id {set_id}")
        return found

    def sets(self) -> list[FlowSet]:
        with Session(self.engine) as session:
            return list(session.scalars(select(FlowSet).order_by(FLOW_SETS.c.id)))

    def remove(self, set_id: int) -> None:
        self.get(set_id)
        with self.engine.begin() as conn:
            conn.execute(delete(FLOWS).where(FLOWS.c.flow_set_id == set_id))
            conn.execute(delete(FLOW_SETS).where(FLOW_SETS.c.id == set_id))

    def flows(self) -> Iterator[Flow]:
        """Every stored flow, from every set (the graph aggregates them)."""
        cols = [FLOWS.c[name] for name in _FIELDS]
        with self.engine.connect() as conn:
            for row in conn.execute(select(*cols).order_by(FLOWS.c.id)):
                yield Flow(*row)


_FIELDS = (
    "src_ip",
    "dst_ip",
    "dst_port",
    "protocol",
    "bytes",
    "packets",
    "connections",
    "first_seen",
    "last_seen",
    "src_name",
    "dst_name",
    "process",
)


def _row(set_id: int, flow: Flow) -> dict[str, object]:
    return {"flow_set_id": set_id, **{name: getattr(flow, name) for name in _FIELDS}}

"""The inventory export contract (docs/inventory-export.md): one JSON object per snapshot."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from migrator.store.models import INVENTORY_TABLES, Snapshot
from migrator.store.snapshots import SnapshotStore

SCHEMA_VERSION = 1


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z; SQLite hands datetimes back without their zone."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def snapshot_header(snap: Snapshot) -> dict[str, Any]:
    return {
        "id": snap.id,
        "source": snap.source,
        "server": snap.server,
        "started_at": iso_utc(snap.started_at),
        "finished_at": iso_utc(snap.finished_at),
        "status": snap.status,
    }


def build_export(store: SnapshotStore, snapshot_id: int | None = None) -> dict[str, Any]:
    snap = store.get(snapshot_id)
    assert snap.id is not None
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "snapshot": snapshot_header(snap)}
    for kind in INVENTORY_TABLES:
        doc[kind] = list(store.records(snap.id, kind))
    doc["warnings"] = list(snap.warnings or [])
    return doc

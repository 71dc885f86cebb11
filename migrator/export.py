"""The inventory export contract (docs/inventory-export.md): one JSON object per snapshot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from migrator.timefmt import iso_utc

if TYPE_CHECKING:  # the stores only for build_export: `snapshots list` needs just the header
    from migrator.store.models import Snapshot
    from migrator.store.quickread import SnapshotRow
    from migrator.store.snapshots import SnapshotStore

SCHEMA_VERSION = 1
__all__ = ["SCHEMA_VERSION", "build_export", "iso_utc", "snapshot_header"]


def snapshot_header(snap: Snapshot | SnapshotRow) -> dict[str, Any]:
    return {
        "id": snap.id,
        "source": snap.source,
        "server": snap.server,
        "started_at": iso_utc(snap.started_at),
        "finished_at": iso_utc(snap.finished_at),
        "status": snap.status,
    }


def build_export(store: SnapshotStore, snapshot_id: int | None = None) -> dict[str, Any]:
    from migrator.store.models import INVENTORY_TABLES

    snap = store.get(snapshot_id)
    assert snap.id is not None
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "snapshot": snapshot_header(snap)}
    for kind in INVENTORY_TABLES:
        doc[kind] = list(store.records(snap.id, kind))
    doc["warnings"] = list(snap.warnings or [])
    return doc

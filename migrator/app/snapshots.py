"""Recording an inventory snapshot: begin, read, commit, or record why it failed (one sequence
for discovery and every import)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator import interrupts
from migrator.app.workspace import Workspace
from migrator.errors import InterruptedRun, MigratorError
from migrator.input_files import Limits
from migrator.inventory_import import read_export
from migrator.rvtools.reader import read_rvtools
from migrator.store.inventory import Inventory
from migrator.store.snapshots import FAILED, INTERRUPTED


@dataclass(frozen=True)
class SnapshotResult:
    snapshot_id: int
    warnings: list[str] = field(default_factory=list)
    # The VM records just stored, for a summary without reading them back (about 1 s at 10,000).
    vms: list[dict[str, Any]] = field(default_factory=list, repr=False)


def record_snapshot(
    ws: Workspace, source: str, origin: str, read: Callable[[], Inventory], what: str = "the run"
) -> SnapshotResult:
    """Begin a snapshot, call `read`, store what it returns; a failure or Ctrl-C is recorded, then raised.

    `source` is "vcenter", "rvtools" or "import"; `origin` the server or file name shown in lists.
    """
    store = ws.store
    try:
        snapshot_id = store.begin(source, origin)
        try:
            inventory = read()
        except MigratorError as exc:
            store.fail(snapshot_id, INTERRUPTED if isinstance(exc, InterruptedRun) else FAILED, exc.message)
            raise
        store.commit(snapshot_id, inventory)  # records its own failure, atomically or not at all
    except KeyboardInterrupt:  # also one landing inside begin() or commit(): the transaction rolled back
        store.fail_own_running(INTERRUPTED, "interrupted by the user")
        raise InterruptedRun(
            f"interrupted ({interrupts.how()}) during {what}: the run is recorded as interrupted; "
            "earlier snapshots are intact"
        ) from None
    return SnapshotResult(snapshot_id, list(inventory.warnings), inventory.vms)


def store_inventory(ws: Workspace, source: str, origin: str, inventory: Inventory) -> SnapshotResult:
    """Store an inventory read completely beforehand (a file import) as a new snapshot."""
    return record_snapshot(ws, source, origin, lambda: inventory, what="the import")


def import_rvtools(ws: Workspace, path: Path, limits: Limits | None = None) -> SnapshotResult:
    """An RVTools export as a new snapshot: the whole workbook is read and checked first, within
    `limits` (None: the defaults and MIGRATOR_LIMIT_* variables, docs/limits.md)."""
    return store_inventory(ws, "rvtools", path.name, read_rvtools(path, limits))


def import_inventory(ws: Workspace, path: Path, limits: Limits | None = None) -> SnapshotResult:
    """An inventory export (docs/inventory-export.md) as a new snapshot, checked completely first."""
    return store_inventory(ws, "import", path.name, read_export(path, limits))

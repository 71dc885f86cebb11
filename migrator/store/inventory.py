"""The Inventory a source produces, before it is stored.

Kept apart from migrator.store.snapshots so that discovery's worker processes, which build
records but never touch the database, do not import SQLAlchemy (about half a second each).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Export keys, in export order: the same keys as migrator.store.models.INVENTORY_TABLES.
INVENTORY_KINDS = ("vms", "hosts", "clusters", "networks", "datastores")


@dataclass
class Inventory:
    """One estate's objects as export-contract records, ready to store."""

    vms: list[dict[str, Any]] = field(default_factory=list)
    hosts: list[dict[str, Any]] = field(default_factory=list)
    clusters: list[dict[str, Any]] = field(default_factory=list)
    networks: list[dict[str, Any]] = field(default_factory=list)
    datastores: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # the vCenter's about.instanceUuid (discovery only): identifies its VMs across an estate
    source_uuid: str | None = None
    # periodic discovery: moref -> its samples with times (migrator.vcenter.perfhistory), kept
    # in the utilisation history, never in the snapshot's records
    history: dict[str, list[list[Any]]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {key: len(getattr(self, key)) for key in INVENTORY_KINDS}

"""Tables. Each inventory object keeps a few indexed columns and its whole record as JSON.

The JSON record is exactly the object of the inventory export contract (docs/inventory-export.md),
so an export is a read, not a transformation, and new facts need no migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index
from sqlmodel import Field, SQLModel


class Snapshot(SQLModel, table=True):
    __tablename__ = "snapshots"

    id: int | None = Field(default=None, primary_key=True)
    source: str  # "vcenter" | "rvtools"
    server: str  # vCenter host name, or the imported file's name
    started_at: datetime = Field(sa_type=DateTime(timezone=True))
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    status: str = "running"  # running | complete | failed | interrupted
    error: str | None = None
    pid: int | None = None  # of the writing process, to tell a crashed run from a live one
    vm_count: int = 0
    host_count: int = 0
    cluster_count: int = 0
    network_count: int = 0
    datastore_count: int = 0
    warnings: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)


class _InventoryColumns(SQLModel):
    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="snapshots.id", index=True)
    moref: str
    name: str
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class VMRecord(_InventoryColumns, table=True):
    __tablename__ = "vms"
    __table_args__ = (Index("ix_vms_snapshot_name", "snapshot_id", "name"),)


class HostRecord(_InventoryColumns, table=True):
    __tablename__ = "hosts"


class ClusterRecord(_InventoryColumns, table=True):
    __tablename__ = "clusters"


class NetworkRecord(_InventoryColumns, table=True):
    __tablename__ = "networks"


class DatastoreRecord(_InventoryColumns, table=True):
    __tablename__ = "datastores"


# Export key -> table, in export order.
INVENTORY_TABLES: dict[str, type[_InventoryColumns]] = {
    "vms": VMRecord,
    "hosts": HostRecord,
    "clusters": ClusterRecord,
    "networks": NetworkRecord,
    "datastores": DatastoreRecord,
}

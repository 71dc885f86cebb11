"""Tables. Each inventory object keeps a few indexed columns and its whole record as JSON.

The JSON record is exactly the object of the inventory export contract (docs/inventory-export.md),
so an export is a read, not a transformation, and new facts need no migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index
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


class FlowSet(SQLModel, table=True):
    """One batch of flow evidence: an imported file or a collector run."""

    __tablename__ = "flow_sets"

    id: int | None = Field(default=None, primary_key=True)
    source: str  # generic-csv | azure-migrate | ipfix
    origin: str  # file name, or the collector's listen address
    digest: str = Field(index=True)  # sha256 of the file (or of the collected records): no double import
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    records: int = 0  # aggregated flow rows stored
    malformed: int = 0  # rows or packets that could not be read (reported, never fatal)
    warnings: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)


class FlowRow(SQLModel, table=True):
    """Observed traffic from a client to a server port, aggregated per (src, dst, port, protocol)."""

    __tablename__ = "flows"

    id: int | None = Field(default=None, primary_key=True)
    flow_set_id: int = Field(foreign_key="flow_sets.id", index=True)
    src_ip: str | None = None
    dst_ip: str | None = None
    dst_port: int | None = None
    protocol: str = "tcp"
    bytes: int = Field(default=0, sa_type=BigInteger)
    packets: int = Field(default=0, sa_type=BigInteger)
    connections: int = Field(default=1, sa_type=BigInteger)
    first_seen: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_seen: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    src_name: str | None = None  # server names where the source gives them (Azure Migrate)
    dst_name: str | None = None
    process: str | None = None


class WavePlanRecord(SQLModel, table=True):
    """A stored wave plan: its parameters and the whole `waves show --format json` document."""

    __tablename__ = "wave_plans"

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="snapshots.id", index=True)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    document: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class WavePin(SQLModel, table=True):
    """An architect's decision: this VM moves in this wave, in every later plan."""

    __tablename__ = "wave_pins"

    vm: str = Field(primary_key=True)
    wave: int
    created_at: datetime = Field(sa_type=DateTime(timezone=True))


class GeneratedWave(SQLModel, table=True):
    """One wave transpiled for one target: where it was written, its status and diagnostics."""

    __tablename__ = "generated_waves"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="wave_plans.id", index=True)
    target: str  # transpiler id
    wave: int
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    status: str  # clean | needs-human
    attempts: int = 1
    out_dir: str
    files: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # path -> sha256
    blocked: dict[str, list[str]] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    diagnostics: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)
    timings: dict[str, float] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class PullRequest(SQLModel, table=True):
    """One wave x target landed for review (docs/prs.md); local mode keeps the review state here."""

    __tablename__ = "pull_requests"

    id: int | None = Field(default=None, primary_key=True)  # the PR number in local mode
    plan_id: int = Field(foreign_key="wave_plans.id", index=True)
    target: str
    wave: int
    repo: str  # "workspace" (the default plans repository) or the --repo path/URL, never with credentials
    forge: str = "local"  # local | github | gitlab | gitea
    forge_number: int | None = None
    forge_url: str | None = None
    branch: str
    base: str = "main"
    head_commit: str  # migrator's last commit on the branch
    status: str = "open"  # open | approved | merged | closed
    title: str
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))
    approvals: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)
    files: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # path -> sha256
    facts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # for change summaries
    summary: str = ""  # what the last landing changed
    merge_commit: str | None = None


class MergedWave(SQLModel, table=True):
    """What migrator generated and what was merged after review: the reviewers' corrections."""

    __tablename__ = "merged_waves"

    id: int | None = Field(default=None, primary_key=True)
    pr_id: int = Field(foreign_key="pull_requests.id", index=True)
    plan_id: int = Field(foreign_key="wave_plans.id", index=True)
    snapshot_id: int
    target: str
    wave: int
    merged_at: datetime = Field(sa_type=DateTime(timezone=True))
    generated_commit: str
    merged_commit: str  # the branch tip that was merged
    merge_commit: str  # the merge commit on the base branch
    generated: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # path -> sha256
    merged: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    diff: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # path -> unified diff
    inputs: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class CmdbImport(SQLModel, table=True):
    """One CMDB export read by `migrator import cmdb`; the latest one is the CMDB migrator uses."""

    __tablename__ = "cmdb_imports"

    id: int | None = Field(default=None, primary_key=True)
    origin: str  # the file's name
    digest: str  # sha256 of the file
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    items: int = 0
    columns: dict[str, str] = Field(default_factory=dict, sa_type=JSON, nullable=False)  # field -> header
    warnings: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)


class CmdbItem(SQLModel, table=True):
    """One configuration item: business facts and the configuration the CMDB expects."""

    __tablename__ = "cmdb_items"
    __table_args__ = (Index("ix_cmdb_items_import_name", "import_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="cmdb_imports.id", index=True)
    name: str
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)

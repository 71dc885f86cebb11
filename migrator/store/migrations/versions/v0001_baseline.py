"""Baseline: the schema of release 0.1.0, the last one made by `SQLModel.metadata.create_all`.

The tables are frozen here (not imported from migrator.store.models, which moves on) and created
with checkfirst: a workspace made by 0.1.0 already has them, so upgrading it only records this
revision; a new database gets them all.

Revision ID: 0001_baseline
Revises:
Created: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_baseline"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INVENTORY_TABLES = ("vms", "hosts", "clusters", "networks", "datastores")


def _tables() -> sa.MetaData:
    meta = sa.MetaData()
    sa.Table(
        "snapshots",
        meta,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("server", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        *(
            sa.Column(f"{kind}_count", sa.Integer(), nullable=False)
            for kind in ("vm", "host", "cluster", "network", "datastore")
        ),
        sa.Column("warnings", sa.JSON(), nullable=False),
    )
    for name in INVENTORY_TABLES:
        sa.Table(
            name,
            meta,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("snapshot_id", sa.Integer(), sa.ForeignKey("snapshots.id"), nullable=False),
            sa.Column("moref", sa.String(), nullable=False),
            sa.Column("name", sa.String(), nullable=False),
            sa.Column("data", sa.JSON(), nullable=False),
            sa.Index(f"ix_{name}_snapshot_id", "snapshot_id"),
            *([sa.Index("ix_vms_snapshot_name", "snapshot_id", "name")] if name == "vms" else []),
        )
    sa.Table(
        "flow_sets",
        meta,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("malformed", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
    )
    sa.Table(
        "flows",
        meta,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("flow_set_id", sa.Integer(), sa.ForeignKey("flow_sets.id"), nullable=False, index=True),
        sa.Column("src_ip", sa.String(), nullable=True),
        sa.Column("dst_ip", sa.String(), nullable=True),
        sa.Column("dst_port", sa.Integer(), nullable=True),
        sa.Column("protocol", sa.String(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("packets", sa.BigInteger(), nullable=False),
        sa.Column("connections", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("src_name", sa.String(), nullable=True),
        sa.Column("dst_name", sa.String(), nullable=True),
        sa.Column("process", sa.String(), nullable=True),
    )
    sa.Table(
        "wave_plans",
        meta,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("snapshot_id", sa.Integer(), sa.ForeignKey("snapshots.id"), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
    )
    sa.Table(
        "wave_pins",
        meta,
        sa.Column("vm", sa.String(), primary_key=True),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "generated_waves",
        meta,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("wave_plans.id"), nullable=False, index=True),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("out_dir", sa.String(), nullable=False),
        *(sa.Column(name, sa.JSON(), nullable=False) for name in ("files", "blocked", "diagnostics")),
        sa.Column("timings", sa.JSON(), nullable=False),
    )
    return meta


def upgrade() -> None:
    _tables().create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    _tables().drop_all(op.get_bind(), checkfirst=True)

"""The findings cache: source findings per complete snapshot, target and policy bundle.

Revision ID: 0006_findings_cache
Revises: 0005_cmdb
Created: 2026-11-22 15:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_findings_cache"
down_revision: str | Sequence[str] | None = "0005_cmdb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "findings_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("bundle", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["snapshots.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("findings_cache", schema=None) as batch_op:
        batch_op.create_index("ix_findings_cache_key", ["snapshot_id", "target", "bundle"], unique=True)
    op.create_table(
        "findings_cache_vms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("vm", sa.String(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["findings_cache.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("findings_cache_vms", schema=None) as batch_op:
        batch_op.create_index("ix_findings_cache_vms_entry_vm", ["entry_id", "vm"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("findings_cache_vms", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_cache_vms_entry_vm")
    op.drop_table("findings_cache_vms")
    with op.batch_alter_table("findings_cache", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_cache_key")
    op.drop_table("findings_cache")

"""Multi-vCenter estates (docs/scale.md#multi-vcenter-estates): the estate's vCenters (where
each one's password is read from, never the password) and the members of estate snapshots
(one per vCenter: its own snapshot, or why it failed). An upgraded workspace has no estate.

Revision ID: 0015_estates
Revises: 0014_embeddings
Created: 2026-12-07 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_estates"
down_revision: str | Sequence[str] | None = "0014_embeddings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "estate_vcenters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("server", sa.String(), nullable=False),
        sa.Column("username", sa.String(), nullable=False),
        sa.Column("password_env", sa.String(), nullable=True),
        sa.Column("password_file", sa.String(), nullable=True),
        sa.Column("insecure", sa.Boolean(), nullable=False),
        sa.Column("thumbprint", sa.String(), nullable=True),
        sa.Column("ca_file", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "estate_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_snapshot_id", sa.Integer(), nullable=False),
        sa.Column("vcenter", sa.String(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("instance_uuid", sa.String(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["estate_snapshot_id"], ["snapshots.id"]),
        sa.ForeignKeyConstraint(["snapshot_id"], ["snapshots.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("estate_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_estate_members_estate_snapshot_id"), ["estate_snapshot_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("estate_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_estate_members_estate_snapshot_id"))
    op.drop_table("estate_members")
    op.drop_table("estate_vcenters")

"""Utilisation history kept by periodic discovery, and why jobs failed (docs/scale.md).

`utilisation_samples`: every sample a discovery with history read, one row per VM (vCenter
instance UUID, moref) and timestamp; `utilisation_runs`: which snapshots brought samples, and
their vCenter's instance UUID. `job_errors`: the one-line reason of each failed attempt of
a queued job (procrastinate's events carry no message).

Revision ID: 0018_utilisation_history
Revises: 0016_jobs
Created: 2026-12-07 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_utilisation_history"
down_revision: str | Sequence[str] | None = "0016_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "utilisation_samples",
        sa.Column("vcenter_uuid", sa.String(), nullable=False),
        sa.Column("moref", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("cpu_pct", sa.Float(), nullable=True),
        sa.Column("mem_pct", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("vcenter_uuid", "moref", "at"),
    )
    op.create_table(
        "utilisation_runs",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("vcenter_uuid", sa.String(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["snapshots.id"]),
        sa.PrimaryKeyConstraint("snapshot_id"),
    )
    op.create_table(
        "job_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_errors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_errors_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_errors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_errors_job_id"))
    op.drop_table("job_errors")
    op.drop_table("utilisation_runs")
    op.drop_table("utilisation_samples")

"""Utilisation history kept by periodic discovery, and why jobs failed (docs/scale.md).

`utilisation_samples`: every sample a discovery with history read, one row per VM (vCenter
instance UUID, moref) and timestamp; `utilisation_runs`: which snapshots brought samples, and
their vCenter's instance UUID. `job_errors`: the one-line reason of each failed attempt of
a queued job (procrastinate's events carry no message). Each holds a team's data: a `tenant`
column (the samples' key takes it in: two teams may read the same vCenter) and, on PostgreSQL,
the row-level security policy of revision 0017_tenants.

Revision ID: 0018_utilisation_history
Revises: 0017_tenants
Created: 2026-12-07 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_utilisation_history"
down_revision: str | Sequence[str] | None = "0017_tenants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SETTING = "current_setting('migrator.tenant', true)"
TABLES = ("utilisation_samples", "utilisation_runs", "job_errors")


def _tenant() -> sa.Column[str]:
    """As 0017_tenants: 'default' on SQLite; on PostgreSQL the transaction's tenant setting."""
    postgres = op.get_bind().dialect.name == "postgresql"
    default = sa.text(SETTING if postgres else "'default'")
    return sa.Column("tenant", sa.String(), nullable=False, server_default=default)


def _row_level_security() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        rule = f"tenant = {SETTING}"
        op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({rule}) WITH CHECK ({rule})")


def upgrade() -> None:
    op.create_table(
        "utilisation_samples",
        sa.Column("vcenter_uuid", sa.String(), nullable=False),
        sa.Column("moref", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("cpu_pct", sa.Float(), nullable=True),
        sa.Column("mem_pct", sa.Float(), nullable=True),
        _tenant(),
        sa.PrimaryKeyConstraint("vcenter_uuid", "moref", "at", "tenant"),
    )
    op.create_table(
        "utilisation_runs",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("vcenter_uuid", sa.String(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _tenant(),
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
        _tenant(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_errors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_errors_job_id"), ["job_id"], unique=False)
    _row_level_security()


def downgrade() -> None:
    with op.batch_alter_table("job_errors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_errors_job_id"))
    op.drop_table("job_errors")
    op.drop_table("utilisation_runs")
    op.drop_table("utilisation_samples")

"""Wave schedules (docs/schedule.md): each computed schedule of a plan, with its inputs.

Revision ID: 0010_wave_schedule
Revises: 0009_plan_edits
Created: 2026-12-07 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_wave_schedule"
down_revision: str | Sequence[str] | None = "0009_plan_edits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wave_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["wave_plans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wave_schedules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wave_schedules_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wave_schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wave_schedules_plan_id"))
    op.drop_table("wave_schedules")

"""Learning from reviewers (docs/learning.md): examples from merged PRs and learned corrections.

Revision ID: 0011_learning
Revises: 0010_wave_schedule
Created: 2026-12-07 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_learning"
down_revision: str | Sequence[str] | None = "0010_wave_schedule"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learning_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pr", sa.Integer(), nullable=False),
        sa.Column("commit", sa.String(), nullable=False),
        sa.Column("approver", sa.String(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("vm", sa.String(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("disks", sa.JSON(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("fix", sa.JSON(), nullable=False),
        sa.Column("reviewers", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("learning_examples", schema=None) as batch_op:
        batch_op.create_index("ix_learning_examples_pr_vm", ["pr", "vm"], unique=True)
    op.create_table(
        "learned_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fact", sa.String(), nullable=False),
        sa.Column("fact_value", sa.String(), nullable=False),
        sa.Column("slot", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("support", sa.Integer(), nullable=False),
        sa.Column("against", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("prs", sa.JSON(), nullable=False),
        sa.Column("reviewers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("learned_corrections")
    with op.batch_alter_table("learning_examples", schema=None) as batch_op:
        batch_op.drop_index("ix_learning_examples_pr_vm")
    op.drop_table("learning_examples")

"""Plan edits (docs/edits.md); every existing pin becomes an edit with source `pin`.

Revision ID: 0009_plan_edits
Revises: 0008_pr_forge_location
Created: 2026-12-07 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_plan_edits"
down_revision: str | Sequence[str] | None = "0008_pr_forge_location"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PIN_AUTHOR = "waves pin"  # who pinned is not recorded by wave_pins; migrator.store.edits uses the same


def upgrade() -> None:
    edits = op.create_table(
        "plan_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("vm", sa.String(), nullable=True),
        sa.Column("wave", sa.Integer(), nullable=True),
        sa.Column("edit", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("who", sa.String(), nullable=False),
        sa.Column("prompt_version", sa.String(), nullable=True),
        sa.Column("pr", sa.Integer(), nullable=True),
        sa.Column("conversation", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("diagnostics", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan_edits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_edits_vm"), ["vm"], unique=False)
    # Written by hand: the pins the planner honours are edits from now on (wave_pins stays the
    # planner's index of them; migrator.store.plans keeps both in one transaction).
    pins = sa.table(
        "wave_pins",
        sa.column("vm", sa.String()),
        sa.column("wave", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    rows = op.get_bind().execute(sa.select(pins.c.vm, pins.c.wave, pins.c.created_at).order_by(pins.c.vm))
    op.bulk_insert(
        edits,
        [
            {
                "created_at": created,
                "kind": "wave-pin",
                "vm": vm,
                "wave": wave,
                "edit": {"version": 1, "kind": "wave-pin", "vm": vm, "wave": wave},
                "source": "pin",
                "who": PIN_AUTHOR,
                "status": "applied",
                "diagnostics": [],
            }
            for vm, wave, created in rows
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("plan_edits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_edits_vm"))
    op.drop_table("plan_edits")

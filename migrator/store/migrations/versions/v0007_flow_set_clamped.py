"""Flow sets count their counter values capped at 2^63-1 (`flows list`, column Clamped).

Revision ID: 0007_flow_set_clamped
Revises: 0006_findings_cache
Created: 2026-11-23 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_flow_set_clamped"
down_revision: str | Sequence[str] | None = "0006_findings_cache"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


MAX_COUNTER = 2**63 - 1  # migrator.bounds at the time of writing: a revision never changes


def upgrade() -> None:
    with op.batch_alter_table("flow_sets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clamped", sa.Integer(), nullable=False, server_default="0"))
    # Sets stored before this revision capped their sums without counting: every counter stored
    # at exactly 2^63-1 is taken as capped (no real exporter or file reports that exact value).
    at_cap = " + ".join(
        f"CASE WHEN {name} = :cap THEN 1 ELSE 0 END" for name in ("bytes", "packets", "connections")
    )
    op.get_bind().execute(
        sa.text(
            "UPDATE flow_sets SET clamped = (SELECT COALESCE(SUM("
            + at_cap
            + "), 0) FROM flows WHERE flows.flow_set_id = flow_sets.id)"
        ),
        {"cap": MAX_COUNTER},
    )


def downgrade() -> None:
    with op.batch_alter_table("flow_sets", schema=None) as batch_op:
        batch_op.drop_column("clamped")

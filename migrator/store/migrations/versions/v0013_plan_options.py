"""Generated waves remember the target options `migrator plan` was given (--region,
--storage-class, --namespace, ...), so `plan refine` renders and regenerates the wave with them.
A wave generated before this revision has none recorded: the target's defaults, as before.

Revision ID: 0013_plan_options
Revises: 0012_identities
Created: 2026-12-07 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_plan_options"
down_revision: str | Sequence[str] | None = "0012_identities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("generated_waves", schema=None) as batch_op:
        batch_op.add_column(sa.Column("options", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("generated_waves", schema=None) as batch_op:
        batch_op.drop_column("options")

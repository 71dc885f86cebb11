"""Pull requests remember where their forge is (API base URL, owner/name), so `pr merge` can merge
through the forge's API without the landing's options.

Revision ID: 0008_pr_forge_location
Revises: 0007_flow_set_clamped
Created: 2026-11-23 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_pr_forge_location"
down_revision: str | Sequence[str] | None = "0007_flow_set_clamped"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pull_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forge_api", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("forge_repo", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pull_requests", schema=None) as batch_op:
        batch_op.drop_column("forge_repo")
        batch_op.drop_column("forge_api")

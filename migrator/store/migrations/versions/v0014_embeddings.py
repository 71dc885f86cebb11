"""Embeddings for the model path of learning (docs/learning.md): one vector per learning example
and per cached checked model answer (the semantic cache; `llm_interactions.semantic_hit`
counts its hits), as float32 bytes searched by brute force. An upgraded
workspace has none; the examples are embedded the first time the model path needs them.

Revision ID: 0014_embeddings
Revises: 0013_plan_options
Created: 2026-12-07 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_embeddings"
down_revision: str | Sequence[str] | None = "0013_plan_options"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "embeddings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("facts_hash", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_embeddings_kind_target", "embeddings", ["kind", "target"], unique=False)
    with op.batch_alter_table("llm_interactions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("semantic_hit", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("llm_interactions", schema=None) as batch_op:
        batch_op.drop_column("semantic_hit")
    op.drop_index("ix_embeddings_kind_target", table_name="embeddings")
    op.drop_table("embeddings")

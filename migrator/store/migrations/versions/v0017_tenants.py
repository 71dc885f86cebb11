"""Tenants (docs/scale.md#tenants): a `tenant` column on every table holding a team's data.

Existing rows become the tenant 'default' (the column's default while it is added). Names that
were unique in the workspace (identities, the estate's vCenters) are unique per tenant; the keys of
`wave_pins` (a VM's name) and `llm_cache` (a hash of the model's input) take the tenant in.

On PostgreSQL each table then gets row-level security, forced on its owner as well, with one
policy: a row is visible and writable only when its tenant is the transaction's
`migrator.tenant` setting (migrator.store.tenancy sets it), and the column's default becomes that
setting, so inserts need no code. A connection that sets no tenant sees no rows.
SQLite holds one tenant ('default'): the column only.

The table list is written out (not imported from the models): a revision never changes.

Revision ID: 0017_tenants
Revises: 0016_jobs
Created: 2026-12-07 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_tenants"
down_revision: str | Sequence[str] | None = "0016_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "snapshots",
    "vms",
    "hosts",
    "clusters",
    "networks",
    "datastores",
    "flow_sets",
    "flows",
    "wave_plans",
    "wave_schedules",
    "wave_pins",
    "plan_edits",
    "generated_waves",
    "pull_requests",
    "merged_waves",
    "cmdb_imports",
    "cmdb_items",
    "conversations",
    "llm_interactions",
    "llm_cache",
    "findings_cache",
    "findings_cache_vms",
    "learning_examples",
    "learned_corrections",
    "identities",
    "audit_log",
    "embeddings",
    "estate_vcenters",
    "estate_members",
)
KEYED = {"wave_pins": "vm", "llm_cache": "key"}  # primary key -> (key, tenant)
UNIQUE = {"identities": "name", "estate_vcenters": "name"}  # unique -> unique per tenant
INDEXED = (
    "snapshots",
    "flow_sets",
    "wave_plans",
    "plan_edits",
    "generated_waves",
    "pull_requests",
    "cmdb_imports",
    "conversations",
    "llm_interactions",
    "learning_examples",
    "learned_corrections",
    "audit_log",
    "embeddings",
)
SETTING = "current_setting('migrator.tenant', true)"
POLICY = "tenant_isolation"
# SQLite's unique constraints have no name: batch mode names them by this convention to drop them.
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _column(primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(
        "tenant", sa.String(), nullable=False, server_default=sa.text("'default'"), primary_key=primary_key
    )


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgres:
            _upgrade_postgres(table)
        else:
            _upgrade_sqlite(table)
    for table in INDEXED:
        op.create_index(f"ix_{table}_tenant", table, ["tenant"], unique=False)


def _upgrade_sqlite(table: str) -> None:
    if table not in UNIQUE and table not in KEYED:
        # SQLite adds a NOT NULL column with a constant default in place. (Batch mode would copy
        # the table, and dropping `snapshots` fails its children's foreign keys.)
        op.add_column(table, _column())
        return
    # These four are referenced by no foreign key: batch mode copies them with the new keys.
    with op.batch_alter_table(table, naming_convention=_SQLITE_NAMES) as batch:
        batch.add_column(_column(primary_key=table in KEYED))  # the key becomes (key, tenant)
        if table in UNIQUE:
            batch.drop_constraint(_sqlite_unique(table, UNIQUE[table]), type_="unique")
            batch.create_unique_constraint(f"uq_{table}_tenant_{UNIQUE[table]}", ["tenant", UNIQUE[table]])
        if table in KEYED:
            batch.create_primary_key(f"{table}_pkey", [KEYED[table], "tenant"])


def _sqlite_unique(table: str, column: str) -> str:
    """The name of the unique constraint on `column` alone: unnamed as created (the convention
    names it), or named by this revision's downgrade."""
    for found in sa.inspect(op.get_bind()).get_unique_constraints(table):
        if found["column_names"] == [column] and found.get("name"):
            return str(found["name"])
    return f"uq_{table}_{column}"


def _upgrade_postgres(table: str) -> None:
    op.add_column(table, _column())  # every existing row: 'default'
    op.alter_column(table, "tenant", server_default=sa.text(SETTING))
    if table in UNIQUE:
        op.drop_constraint(f"{table}_{UNIQUE[table]}_key", table, type_="unique")
        op.create_unique_constraint(f"uq_{table}_tenant_{UNIQUE[table]}", table, ["tenant", UNIQUE[table]])
    if table in KEYED:
        op.drop_constraint(f"{table}_pkey", table, type_="primary")
        op.create_primary_key(f"{table}_pkey", table, [KEYED[table], "tenant"])
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY {POLICY} ON {table} USING (tenant = {SETTING}) WITH CHECK (tenant = {SETTING})"
    )


def downgrade() -> None:
    """Back to one tenant: every tenant's rows stay, without their tenant (names may then clash)."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in INDEXED:
        op.drop_index(f"ix_{table}_tenant", table_name=table)
    for table in TABLES:
        if postgres:
            op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        if table not in UNIQUE and table not in KEYED:
            op.drop_column(table, "tenant")  # in place (SQLite 3.35+): no copy of a referenced table
            continue
        with op.batch_alter_table(table) as batch:
            if table in UNIQUE:
                batch.drop_constraint(f"uq_{table}_tenant_{UNIQUE[table]}", type_="unique")
                batch.create_unique_constraint(f"{table}_{UNIQUE[table]}_key", [UNIQUE[table]])
            if table in KEYED:
                if postgres:
                    batch.drop_constraint(f"{table}_pkey", type_="primary")
                batch.create_primary_key(f"{table}_pkey", [KEYED[table]])
            batch.drop_column("tenant")

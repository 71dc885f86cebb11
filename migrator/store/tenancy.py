"""Tenants in the database (docs/scale.md#tenants): the per-transaction setting that PostgreSQL's
row-level security policies read, and the tables that carry a tenant.

Every table holding a team's data has a `tenant` column; on PostgreSQL each has a policy
`tenant = current_setting('migrator.tenant', true)` (revision 0017_tenants), forced on the
table's owner too, and the column's default is that same setting, so an insert needs no code
change. The setting is made per transaction (`set_config(..., true)`) when SQLAlchemy begins one
on a connection of a tenant's engine (`bind`): it ends with the transaction, so a pooled
connection handed to another tenant's engine next never carries the last one's tenant. A
connection whose engine names no tenant (Alembic's upgrade, procrastinate's own connections)
sets nothing and sees no tenant's rows at all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from migrator.settings import check_tenant

SETTING = "migrator.tenant"
OPTION = "migrator_tenant"  # the execution option carrying an engine's tenant

# Every table holding tenant data (revisions 0017_tenants and 0018_utilisation_history add the
# column and the policy).
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
    "utilisation_samples",
    "utilisation_runs",
    "job_errors",
)


def install(engine: Engine) -> None:
    """Make every transaction of a tenant's engine (`bind`) run as that tenant (PostgreSQL)."""
    if engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _set_tenant)


def bind(engine: Engine, tenant: str) -> Engine:
    """The engine as `tenant`: the same pool and listeners, the tenant as an execution option."""
    return engine.execution_options(**{OPTION: check_tenant(tenant)})


def of(engine: Engine | Connection) -> str | None:
    """The tenant an engine (or connection) runs as; None for the unbound engine."""
    tenant = engine.get_execution_options().get(OPTION)
    return str(tenant) if tenant is not None else None


def require_isolation(engine: Engine) -> None:
    """Refuse a tenant other than 'default' where the database would not isolate it: SQLite, or a
    PostgreSQL role that row-level security does not bind (a superuser, BYPASSRLS)."""
    from sqlalchemy import text

    from migrator.errors import StoreError

    if engine.dialect.name != "postgresql":
        raise StoreError("tenants need PostgreSQL: a SQLite workspace holds only the tenant 'default'")
    with engine.connect() as conn:
        role, bypass = conn.execute(
            text("SELECT rolname, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
    if bypass:
        raise StoreError(
            f"the database role {role!r} is a superuser or has BYPASSRLS, so row-level security "
            "cannot keep tenants apart: connect as a role without them (docs/scale.md#tenants)"
        )


def _set_tenant(conn: Connection) -> None:
    tenant = of(conn)
    if tenant is not None:
        # The DB-API connection, not conn.execute: this runs inside SQLAlchemy's begin.
        set_on(conn.connection, tenant)


def set_on(dbapi_connection: Any, tenant: str) -> None:
    """Set the tenant for the DB-API connection's current transaction (PostgreSQL): the driver's
    implicit BEGIN makes this statement the transaction's first (psycopg 2 and 3 take %s)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"SELECT set_config('{SETTING}', %s, true)", (check_tenant(tenant),))
    finally:
        cursor.close()

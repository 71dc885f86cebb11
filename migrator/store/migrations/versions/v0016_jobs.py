"""Durable jobs (docs/scale.md): procrastinate's own schema on PostgreSQL, nothing on SQLite.

The SQL is procrastinate 3.10.0's `schema.sql`, copied beside the revisions
(`migrations/procrastinate-3.10.0.sql`) so this revision never changes when the lock moves
procrastinate on: a later procrastinate whose schema differs gets its own revision that applies
procrastinate's migration files from 3.10.0 on (procrastinate's documented upgrade path;
tests/test_jobs_schema.py fails until it exists). A database where procrastinate's tables
already exist (installed by hand with `procrastinate schema --apply`) is left as it is.

Revision ID: 0016_jobs
Revises: 0014_embeddings
Created: 2026-12-07 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0016_jobs"
down_revision: str | Sequence[str] | None = "0015_estates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA_SQL = Path(__file__).resolve().parents[1] / "procrastinate-3.10.0.sql"

# Every object the schema creates, dropped in dependency order by downgrade().
_DROP = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE p.proname LIKE 'procrastinate\\_%' AND n.nspname = current_schema() LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || f.sig || ' CASCADE';
    END LOOP;
END $$;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status CASCADE;
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite is the single-machine default: no queue, no worker
    if sa.inspect(bind).has_table("procrastinate_jobs"):
        return
    # exec_driver_sql: the SQL goes to the driver as it is (no bind-parameter parsing of its colons)
    bind.exec_driver_sql(SCHEMA_SQL.read_text(encoding="utf-8").replace("%", "%%"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(_DROP.replace("%", "%%"))

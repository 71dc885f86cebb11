"""Alembic environment: runs on the connection migrator passes in, or on the workspace's database
when a developer runs the `alembic` command (alembic.ini at the repository root)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel, create_engine

import migrator.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from migrator.settings import Settings
from migrator.store.schema import own_object

TARGET = SQLModel.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=TARGET,
        render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies the table
        compare_type=True,
        include_name=own_object,  # procrastinate's tables are its own schema (0016_jobs)
    )


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(Settings.resolve().db_url)  # MIGRATOR_DB_URL or MIGRATOR_WORKSPACE
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()


run()

"""The listings a user runs most (`snapshots list`, `pr list`), read through the fast path of
migrator/store/quickread.py: no SQLAlchemy for a current SQLite workspace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from migrator.app.workspace import Workspace
from migrator.store import quickread
from migrator.store.quickread import PullRequestRow, SnapshotRow


@contextmanager
def reading(ws: Workspace) -> Iterator[quickread.Connection]:
    """sqlite3 on a current SQLite workspace, else the engine's connection (which creates or
    upgrades the database first, as every other command does)."""
    connection: quickread.Connection | None = None
    if not ws.engine_open:
        connection = quickread.open_current_sqlite(ws.settings.db_url)
    if connection is None:
        engine = ws.engine
        connection = engine.raw_connection()  # no SQLAlchemy transaction: set the tenant here
        if engine.dialect.name == "postgresql":
            from migrator.store.tenancy import set_on

            set_on(connection, ws.tenant)
    try:
        yield connection
    finally:
        connection.close()


def snapshots(ws: Workspace) -> list[SnapshotRow]:
    with reading(ws) as connection:
        return quickread.snapshots(connection)


def pull_requests(ws: Workspace) -> list[PullRequestRow]:
    with reading(ws) as connection:
        return quickread.pull_requests(connection)

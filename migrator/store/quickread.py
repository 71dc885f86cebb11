"""Listings read without SQLAlchemy, so `migrator snapshots list` and `migrator pr list` answer
in a fraction of a second (issue 24).

Importing SQLAlchemy takes about 0.2 s and the SQLModel tables about 0.3 s more, longer than a
listing may take in all. A listing is one SELECT, so it is written here as plain SQL over a
DB-API connection and read into the small records below: `sqlite3` itself for a SQLite
workspace already at the current schema revision (checked as schema.py checks it, but without
inspecting the schema through SQLAlchemy), otherwise the engine's own connection
(`Workspace.reading`: PostgreSQL, or a database that must first be created or upgraded).
tests/test_cli_startup.py checks that these records equal the stores' models field by field,
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from migrator.store.revision import HEAD, VERSION_TABLE

_SQLITE = "sqlite:///"


class Connection(Protocol):
    """What a listing needs of a DB-API connection (sqlite3's, or the engine's pooled one)."""

    def cursor(self) -> Any: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SnapshotRow:
    """A `snapshots` row as `migrator snapshots list` shows it (the Snapshot model's fields)."""

    id: int
    source: str
    server: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    error: str | None
    vm_count: int
    host_count: int
    cluster_count: int
    network_count: int
    datastore_count: int
    warnings: list[str]


@dataclass(frozen=True)
class PullRequestRow:
    """A `pull_requests` row as `migrator pr list` shows it (the PullRequest model's fields)."""

    id: int
    plan_id: int
    target: str
    wave: int
    repo: str
    forge: str
    forge_number: int | None
    forge_url: str | None
    branch: str
    base: str
    head_commit: str
    status: str
    title: str
    created_at: datetime
    updated_at: datetime
    approvals: list[dict[str, Any]]
    summary: str
    merge_commit: str | None


Row = TypeVar("Row", SnapshotRow, PullRequestRow)


def sqlite_path(db_url: str) -> Path | None:
    """The file of a plain `sqlite:///PATH` URL; None for anything else (a driver, options,
    memory): those take the engine's road."""
    if not db_url.startswith(_SQLITE) or "?" in db_url:
        return None
    path = db_url[len(_SQLITE) :]
    return Path(path) if path and path != ":memory:" else None


def open_current_sqlite(db_url: str) -> sqlite3.Connection | None:
    """A sqlite3 connection to the workspace's database when it exists and is at HEAD; None when
    it is missing, older or newer (then the engine creates, upgrades or refuses it, as always)."""
    path = sqlite_path(db_url)
    if path is None or not path.is_file():
        return None
    connection = sqlite3.connect(path)
    try:
        found = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
    except sqlite3.Error:  # no version table (new or pre-Alembic), or not a database
        found = []
    if found != [(HEAD,)]:
        connection.close()
        return None
    return connection


def snapshots(connection: Connection) -> list[SnapshotRow]:
    """Every snapshot, oldest first."""
    return _select(connection, "snapshots", SnapshotRow)


def pull_requests(connection: Connection) -> list[PullRequestRow]:
    """Every pull request, oldest first."""
    return _select(connection, "pull_requests", PullRequestRow)


_MOMENTS = {"started_at", "finished_at", "created_at", "updated_at"}
_JSON = {"warnings", "approvals"}


def _select(connection: Connection, table: str, row: type[Row]) -> list[Row]:
    names = [f.name for f in fields(row)]
    cursor = connection.cursor()
    try:
        # names come from the dataclass above, never from input
        cursor.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY id")
        found: Sequence[Sequence[Any]] = cursor.fetchall()
    finally:
        cursor.close()
    return [row(**{n: _value(n, v) for n, v in zip(names, values, strict=True)}) for values in found]


def _value(name: str, value: Any) -> Any:
    """SQLite hands back datetimes and JSON as text (SQLAlchemy's storage formats); PostgreSQL's
    driver decodes both itself."""
    if isinstance(value, str) and name in _MOMENTS:
        return datetime.fromisoformat(value)
    if isinstance(value, str) and name in _JSON:
        return json.loads(value)
    return value

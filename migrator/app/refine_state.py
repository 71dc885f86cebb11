"""Where `plan refine` keeps its LangGraph checkpoints, so an interrupted refinement resumes.

SQLite workspace: `<workspace>/refine-state.db` (SqliteSaver). PostgreSQL store: the same
database, in its own schema `migrator_refine` (PostgresSaver over psycopg 3), so a refinement
resumes from any machine that reaches the store, and Alembic's tables are never mixed with
langgraph's own (langgraph migrates its schema itself, in `setup()`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from migrator.app.workspace import Workspace
from migrator.dburl import parse, redact, scrub
from migrator.errors import StoreError

STATE_FILE = "refine-state.db"
PG_SCHEMA = "migrator_refine"


@contextmanager
def checkpoints(ws: Workspace) -> Iterator[BaseCheckpointSaver[Any]]:
    """The checkpointer for the workspace's store: PostgreSQL when the store is, else SQLite."""
    if not ws.settings.uses_sqlite:
        with postgres_checkpoints(ws.settings.db_url) as saver:
            yield saver
        return
    ws.settings.workspace.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(ws.settings.workspace / STATE_FILE, check_same_thread=False)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


def connect_params(db_url: str) -> dict[str, Any]:
    """libpq keywords from the store's SQLAlchemy URL (any driver), the password never in a string."""
    url = parse(db_url)
    params: dict[str, Any] = {"host": url.host, "port": url.port, "user": url.username,
                              "password": url.password, "dbname": url.database}  # fmt: skip
    params |= {k: v for k, v in url.query.items() if isinstance(v, str)}
    return {k: v for k, v in params.items() if v is not None}


@contextmanager
def postgres_checkpoints(db_url: str) -> Iterator[BaseCheckpointSaver[Any]]:
    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
    except ImportError:
        raise StoreError(
            "plan refine on a PostgreSQL store needs langgraph-checkpoint-postgres and psycopg 3: "
            "pip install 'migrator[postgres]'"
        ) from None

    try:
        conn = psycopg.connect(**connect_params(db_url), autocommit=True, row_factory=dict_row)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(
            scrub(f"cannot keep refinement state in {redact(db_url)}: {reason}", db_url)
        ) from None
    with conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}")
        conn.execute(f"SET search_path TO {PG_SCHEMA}")
        saver = PostgresSaver(conn)  # autocommit + dict_row: what PostgresSaver documents
        saver.setup()
        yield saver

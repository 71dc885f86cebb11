"""Nearest neighbours inside SQLite with sqlite-vec (docs/learning.md, "Search and scale").

This Python's sqlite3 cannot load extensions; sqlean.py (a sqlite3 build that can) opens the same
database file read-only, sqlite-vec's `vec_distance_cosine` scores the float32 BLOB column where
the rows are, and only the k nearest ids come back (no virtual table: the column stays as revision
0014 made it). When either package is missing, the extension does not load, or the database is
not a SQLite file (PostgreSQL, in memory), `nearest_ids` returns None and the caller searches by
brute force.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

QUERY = (
    "SELECT id, vec_distance_cosine(vector, ?) AS d FROM embeddings WHERE kind = ?{where} "
    "ORDER BY d, id LIMIT ?"
)


def sqlite_file(engine: Any) -> Path | None:
    """The database file of a SQLite engine; None for another database or one in memory."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether sqlean.py and sqlite-vec are installed and the extension loads (checked once)."""
    try:
        connect(":memory:").close()
    except Exception as exc:  # any failure means: search by brute force
        log.info("sqlite-vec unavailable (%s): brute-force search", type(exc).__name__)
        return False
    return True


def connect(database: str, uri: bool = False) -> Any:
    import sqlean
    import sqlite_vec

    conn = sqlean.connect(database, uri=uri)
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.enable_load_extension(False)  # nothing else is loaded through this connection
    return conn


def nearest_ids(
    engine: Any, query: bytes, kind: str, k: int, target: str | None, facts_hash: str | None
) -> list[tuple[int, float]] | None:
    """(id, cosine similarity) of the k nearest rows, best first (ties: the older row), or None
    when the search cannot run in SQLite (the caller searches by brute force)."""
    path = sqlite_file(engine)
    if path is None or not path.exists() or not available():
        return None
    where, args = "", [query, kind]
    if target is not None:
        where, args = where + " AND target = ?", [*args, target]
    if facts_hash is not None:
        where, args = where + " AND facts_hash = ?", [*args, facts_hash]
    try:
        # percent-encoded: a ? or # in the workspace's path would otherwise end the file name
        conn = connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    except Exception:  # the file cannot be opened this way: brute force
        return None
    try:
        rows = conn.execute(QUERY.format(where=where), [*args, k]).fetchall()
    except Exception as exc:  # e.g. a vector of another length: brute force
        log.info("sqlite-vec search failed (%s): brute force", type(exc).__name__)
        return None
    finally:
        conn.close()
    return [(int(i), 1.0 - float(d)) for i, d in rows]

"""Stored embeddings (table `embeddings`, revision 0014) and their nearest-neighbour search.

In a SQLite file the search runs inside SQLite with sqlite-vec's `vec_distance_cosine` over the
BLOB column (migrator/store/vec.py) and reads only the k nearest rows. Elsewhere (PostgreSQL, or
when the extension cannot load) it is brute force: every row of one kind and target is read and
scored with one matrix product (vectors are unit length, so the dot product is the cosine).
Both give the same top k; docs/learning.md has the figures and where each stops being enough.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from migrator.errors import StoreError
from migrator.store import vec
from migrator.store.models import Embedding
from migrator.store.snapshots import _table, now

TABLE = _table(Embedding)


def pack(vector: NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def unpack(data: bytes) -> NDArray[np.float32]:
    return np.frombuffer(data, dtype="<f4")


@dataclass(frozen=True)
class Hit:
    row: Embedding
    score: float  # cosine similarity, -1..1


def top_k(query: NDArray[np.float32], rows: builtins.list[Embedding], k: int) -> builtins.list[Hit]:
    """The k rows most similar to the query, best first (ties: the older row first)."""
    if not rows or k <= 0:
        return []
    matrix = np.stack([unpack(r.vector) for r in rows])
    scores = matrix @ np.asarray(query, dtype=np.float32)
    order = sorted(range(len(rows)), key=lambda i: (-float(scores[i]), rows[i].id or 0))[:k]
    return [Hit(rows[i], float(scores[i])) for i in order]


class EmbeddingStore:
    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def add(self, row: Embedding) -> Embedding:
        row.created_at = now()
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                session.add(row)
            return row
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store an embedding: {type(exc).__name__}") from None

    def rows(
        self, kind: str, target: str | None = None, facts_hash: str | None = None
    ) -> builtins.list[Embedding]:
        stmt = select(Embedding).where(TABLE.c.kind == kind)
        if target is not None:
            stmt = stmt.where(TABLE.c.target == target)
        if facts_hash is not None:
            stmt = stmt.where(TABLE.c.facts_hash == facts_hash)
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.scalars(stmt.order_by(TABLE.c.id)).all())

    def refs(self, kind: str) -> set[int]:
        with Session(self.engine) as session:
            found = session.scalars(select(TABLE.c.ref).where(TABLE.c.kind == kind)).all()
            return {r for r in found if r is not None}

    def nearest(
        self,
        query: NDArray[np.float32],
        kind: str,
        k: int,
        target: str | None = None,
        facts_hash: str | None = None,
    ) -> builtins.list[Hit]:
        if k <= 0:
            return []
        found = vec.nearest_ids(self.engine, pack(query), kind, k, target, facts_hash)
        if found is None:
            return self.brute_force(query, kind, k, target, facts_hash)
        by_id = {r.id: r for r in self.by_ids([i for i, _ in found])}
        return [Hit(by_id[i], score) for i, score in found if i in by_id]

    def brute_force(
        self,
        query: NDArray[np.float32],
        kind: str,
        k: int,
        target: str | None = None,
        facts_hash: str | None = None,
    ) -> builtins.list[Hit]:
        return top_k(query, self.rows(kind, target, facts_hash), k)

    def by_ids(self, ids: builtins.list[int]) -> builtins.list[Embedding]:
        if not ids:
            return []
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.scalars(select(Embedding).where(TABLE.c.id.in_(ids))).all())

    def forget_refs(self, kind: str, refs: set[int]) -> None:
        """Remove the vectors derived from rows that are gone."""
        if not refs:
            return
        with self.engine.begin() as conn:
            conn.execute(delete(TABLE).where(TABLE.c.kind == kind, TABLE.c.ref.in_(sorted(refs))))

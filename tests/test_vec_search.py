"""Nearest neighbours inside SQLite with sqlite-vec (migrator/store/vec.py) against brute force on
the same rows of a real SQLite workspace: the same top k, the same scores; brute force when
sqlite-vec cannot run (no SQLite file, the extension missing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from migrator.settings import Settings
from migrator.store import vec
from migrator.store.database import open_engine
from migrator.store.embeddings import EmbeddingStore, pack
from migrator.store.models import Embedding
from migrator.store.snapshots import now


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def filled(tmp_path: Path, n: int = 400) -> tuple[EmbeddingStore, np.ndarray]:
    store = EmbeddingStore(open_engine(Settings.resolve(tmp_path / "ws", None)))
    rng = np.random.default_rng(21)
    vectors = unit(rng, n)
    for i, v in enumerate(vectors):
        target, kind = ("terraform-aws" if i % 3 else "kubevirt"), ("example" if i % 5 else "cache")
        store.add(
            Embedding(
                created_at=now(),
                kind=kind,
                target=target,
                facts_hash=f"h{i % 2}",
                text=f"row {i}",
                vector=pack(v),
            )
        )
    return store, unit(rng, 12)


def test_sqlite_vec_gives_the_brute_force_top_k_on_400_vectors(tmp_path: Path) -> None:
    store, queries = filled(tmp_path)
    assert vec.available() and vec.sqlite_file(store.engine) is not None
    for q in queries:
        for kind, target, facts_hash in (("example", None, None), ("example", "terraform-aws", None),
                                         ("cache", "kubevirt", "h1")):  # fmt: skip
            ids = vec.nearest_ids(store.engine, pack(q), kind, 5, target, facts_hash)
            brute = store.brute_force(q, kind, 5, target, facts_hash)
            assert ids is not None and [i for i, _ in ids] == [h.row.id for h in brute]
            assert np.allclose([s for _, s in ids], [h.score for h in brute], atol=1e-5)
            hits = store.nearest(q, kind, 5, target, facts_hash)  # the path callers take: sqlite-vec
            assert [h.row.id for h in hits] == [h.row.id for h in brute]
            assert all(h.row.kind == kind and (target is None or h.row.target == target) for h in hits)


def test_brute_force_when_sqlite_vec_cannot_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, queries = filled(tmp_path, 40)
    memory = EmbeddingStore(open_engine(Settings.resolve(tmp_path / "ws", "sqlite://")))
    assert vec.sqlite_file(memory.engine) is None  # in memory: nothing to open a second time
    vec.available.cache_clear()
    monkeypatch.setattr(vec, "connect", lambda *a, **k: (_ for _ in ()).throw(ImportError("sqlean")))
    try:
        assert not vec.available()
        assert vec.nearest_ids(store.engine, pack(queries[0]), "example", 3, None, None) is None
        hits = store.nearest(queries[0], "example", 3)
        assert [h.row.id for h in hits] == [h.row.id for h in store.brute_force(queries[0], "example", 3)]
    finally:
        vec.available.cache_clear()

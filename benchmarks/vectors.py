"""Nearest-neighbour search over stored embeddings (docs/learning.md, "Search and scale"): the k=3
nearest of N random 384-dimension unit vectors in a SQLite workspace, inside SQLite with
sqlite-vec (migrator/store/vec.py) and by brute force (every row read, one matrix product).
Prints the median of 7 searches per size, and a `BENCH {json}` line (benchmarks/report.py).
Usage: python benchmarks/vectors.py [--sizes 1000,10000]"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from migrator.settings import Settings
from migrator.store import vec
from migrator.store.database import open_engine
from migrator.store.embeddings import TABLE, EmbeddingStore, pack

RUNS = 7


def fill(store: EmbeddingStore, n: int, rng: np.random.Generator) -> None:
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    stamp = datetime.now(UTC)
    rows = [{"created_at": stamp, "kind": "example", "ref": i, "target": "terraform-aws", "facts_hash": "",
             "text": f"row {i}", "vector": pack(v), "answer": {}} for i, v in enumerate(vectors)]  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(TABLE.insert(), rows)


def median_ms(search: Callable[[], object]) -> float:
    search()  # warm: the first call opens files and loads the extension
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        search()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    rng = np.random.default_rng(21)
    figures = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            store = EmbeddingStore(open_engine(Settings.resolve(Path(tmp) / "ws", None)))
            fill(store, n, rng)
            q = rng.standard_normal(384).astype(np.float32)
            q /= np.linalg.norm(q)
            assert vec.available(), "sqlean.py and sqlite-vec are needed (requirements.lock)"
            same = [h.row.id for h in store.nearest(q, "example", 3)] == [
                h.row.id for h in store.brute_force(q, "example", 3)
            ]
            inside = median_ms(lambda: store.nearest(q, "example", 3, "terraform-aws"))  # noqa: B023
            brute = median_ms(lambda: store.brute_force(q, "example", 3, "terraform-aws"))  # noqa: B023
            store.engine.dispose()
        print(f"{n:>7} vectors: sqlite-vec {inside:7.1f} ms, brute force {brute:7.1f} ms, same top 3: {same}")
        figures += [[f"sqlite-vec, {n} vectors (ms)", f"{inside:.1f}", ""],
                    [f"brute force, {n} vectors (ms)", f"{brute:.1f}", ""]]  # fmt: skip
    print("BENCH " + json.dumps({"bench": "vector search", "figures": figures}))


if __name__ == "__main__":
    main()

"""`enclave bench store`: filtered hybrid query latency of the embedded store at scale.

Synthetic but shaped like real chunks: 384-dim unit vectors (MiniLM's size), BM25-like sparse vectors
(Zipf-distributed vocabulary, ~50 terms per chunk), ~800-character payload texts, and ACLs of one or
two groups out of 40. Each query is what the Retriever does minus the query embedding: one batched
dense + sparse search filtered by an ACL ``MatchAny`` over 10 groups, then RRF fusion. Both engines
run in the same process on the same data, so the edge/local ratio survives a noisy, shared machine.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import percentiles, write_result
from enclave_core.embedding.sparse import SparseVector
from enclave_core.retrieval import fuse
from enclave_core.settings import RetrievalSettings
from enclave_core.vectorstore import payload
from enclave_core.vectorstore.base import AccessScope, PointRecord, VectorStore

__all__ = ["format_store", "run_store_bench"]

DIM = 384
VOCAB = 50_000
GROUPS = [f"group-{i:02d}" for i in range(40)]
COLLECTION = "bench"
_WORDS = [
    "the",
    "patient",
    "study",
    "results",
    "cell",
    "protein",
    "expression",
    "clinical",
    "trial",
    "risk",
    "increased",
    "model",
]


def _points(n: int, seed: int, batch: int = 1000) -> Iterator[list[PointRecord]]:
    """Deterministic synthetic chunks, generated batch by batch to bound memory."""
    rng = np.random.default_rng(seed)
    for start in range(0, n, batch):
        size = min(batch, n - start)
        dense = rng.normal(size=(size, DIM)).astype(np.float32)
        dense /= np.linalg.norm(dense, axis=1, keepdims=True)
        out = []
        for j in range(size):
            i = start + j
            terms = np.unique(rng.zipf(1.3, size=int(rng.poisson(50)) + 5) % VOCAB)
            values = rng.uniform(0.4, 2.2, size=len(terms))
            acl = sorted({GROUPS[int(rng.integers(len(GROUPS)))] for _ in range(int(rng.integers(1, 3)))})
            text = " ".join(rng.choice(_WORDS, size=120))
            out.append(
                PointRecord(
                    id=str(uuid.UUID(int=i + 1)),
                    dense=dense[j],
                    sparse=SparseVector([int(t) for t in terms], [float(v) for v in values]),
                    payload={
                        payload.DOC_ID: f"doc-{i // 4}",
                        payload.ACL: acl,
                        payload.TEXT: text,
                        payload.CHUNK_INDEX: i % 4,
                    },
                )
            )
        yield out


def _queries(n: int, seed: int) -> list[tuple[np.ndarray, SparseVector, AccessScope]]:
    rng = np.random.default_rng(seed + 1)
    out = []
    for _ in range(n):
        dense = rng.normal(size=DIM).astype(np.float32)
        dense /= np.linalg.norm(dense)
        terms = sorted({int(t) for t in rng.zipf(1.3, size=8) % VOCAB})
        scope = AccessScope(frozenset(rng.choice(GROUPS, size=10, replace=False).tolist()))
        out.append((dense, SparseVector(terms, [1.0] * len(terms)), scope))
    return out


def _open(engine: str, root: Path) -> VectorStore:
    if engine == "edge":
        from enclave_core.vectorstore.edge import EdgeStore

        return EdgeStore(root / "edge")
    from qdrant_client import QdrantClient

    from enclave_core.vectorstore.qdrant import QdrantStore

    # In memory: search runs the same Python code as the on-disk embedded mode (which only adds
    # SQLite writes on upsert), and loading 100k points stays within minutes.
    return QdrantStore(QdrantClient(":memory:"))


def _time_queries(
    store: VectorStore, queries: Sequence[tuple[np.ndarray, SparseVector, AccessScope]], settings: RetrievalSettings
) -> tuple[dict[str, float], float]:
    """What Retriever.search does after embedding the question: one filtered batch, then fusion."""
    store.search(COLLECTION, queries[0][0], queries[0][1], queries[0][2], settings.candidates)  # warm caches
    latencies: list[float] = []
    hits = 0
    for dense, sparse, scope in queries:
        t0 = time.perf_counter()
        dense_hits, sparse_hits = store.search(COLLECTION, dense, sparse, scope, settings.candidates)
        fused = fuse(dense_hits, sparse_hits, settings)[: settings.top_k]
        latencies.append(time.perf_counter() - t0)
        hits += len(fused)
        assert all(set(h.payload[payload.ACL]) & (scope.groups or set()) for h, _ in fused)
    return percentiles(latencies), round(hits / len(queries), 2)


def _bench_engine(
    engine: str, n_points: int, queries: Sequence[tuple[np.ndarray, SparseVector, AccessScope]], root: Path, seed: int
) -> dict[str, Any]:
    store = _open(engine, root)
    settings = RetrievalSettings()
    try:
        store.ensure_collection(COLLECTION, DIM)
        start = time.perf_counter()
        for batch in _points(n_points, seed):
            store.upsert(COLLECTION, batch)
        load_s = time.perf_counter() - start
        optimize_s = 0.0
        before: dict[str, float] | None = None
        if hasattr(store, "optimize"):
            before = _time_queries(store, queries, settings)[0]
            start = time.perf_counter()
            store.optimize(COLLECTION)
            optimize_s = time.perf_counter() - start
        assert store.count(COLLECTION) == n_points
        latency, mean_results = _time_queries(store, queries, settings)
        return {
            "points": n_points,
            "load_s": round(load_s, 2),
            "load_points_per_s": round(n_points / load_s, 1),
            "optimize_s": round(optimize_s, 2),
            "queries": len(queries),
            "mean_results": mean_results,
            "latency": latency,
            **({"latency_before_optimize": before} if before else {}),
        }
    finally:
        store.close()


def run_store_bench(
    out_dir: Path,
    n_points: int = 100_000,
    queries: int = 200,
    engines: Sequence[str] = ("edge", "local"),
    *,
    local_queries: int = 10,
    seed: int = 0,
) -> dict[str, Any]:
    """Load ``n_points`` synthetic chunks into each engine and time filtered hybrid queries.

    qdrant-client's local mode scans in Python (about a second per query at 100k points), so it
    answers fewer queries (``local_queries``, the first ones of the same list).
    """
    query_list = _queries(queries, seed)
    result: dict[str, Any] = {
        "dimension": DIM,
        "acl_groups_total": len(GROUPS),
        "acl_groups_per_query": 10,
        "candidates_per_retriever": RetrievalSettings().candidates,
        "goal_p50_ms": 10.0,
        "engines": {},
    }
    with tempfile.TemporaryDirectory(prefix="enclave-bench-store-") as tmp:
        for engine in engines:
            subset = query_list if engine == "edge" else query_list[:local_queries]
            result["engines"][engine] = _bench_engine(engine, n_points, subset, Path(tmp), seed)
            print(f"{engine}: {result['engines'][engine]}", flush=True)  # partial results survive a long run
    if {"edge", "local"} <= set(result["engines"]):
        edge, local = result["engines"]["edge"]["latency"], result["engines"]["local"]["latency"]
        result["ratio_edge_over_local"] = {
            "p50": round(edge["p50_ms"] / local["p50_ms"], 5),
            "p95": round(edge["p95_ms"] / local["p95_ms"], 5),
        }
    result["path"] = str(write_result(out_dir, "store", result))
    return result


def format_store(result: dict[str, Any]) -> str:
    lines = [f"{'engine':8} {'points':>8} {'load s':>8} {'opt s':>7} {'p50 ms':>9} {'p95 ms':>9} {'queries':>8}"]
    for name, r in result["engines"].items():
        lat = r["latency"]
        lines.append(
            f"{name:8} {r['points']:8d} {r['load_s']:8.1f} {r['optimize_s']:7.1f} {lat['p50_ms']:9.2f}"
            f" {lat['p95_ms']:9.2f} {r['queries']:8d}"
        )
    for name, r in result["engines"].items():
        if "latency_before_optimize" in r:
            lat = r["latency_before_optimize"]
            lines.append(
                f"{name} before optimize (no HNSW yet): p50 {lat['p50_ms']:.2f} ms, p95 {lat['p95_ms']:.2f} ms"
            )
    if "ratio_edge_over_local" in result:
        lines.append(f"edge/local latency ratio: {result['ratio_edge_over_local']} (goal: edge p50 <= 10 ms)")
    lines.append(f"results: {result['path']}")
    return "\n".join(lines)

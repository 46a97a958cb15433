"""The read path's visibility check: an exact filtered count against ``any_point`` (a one-point scroll).

``python -m benchmarks.visibility_probe [--points 20000]``: an embedded qdrant-edge store with
``--points`` chunks, a quarter readable by the caller's group; each probe is timed interleaved with the
count it replaces (same store, same scope), for the collection check and for a pseudonym's documents.
Writes results/visibility-probe-<stamp>.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import write_result
from enclave_core.embedding.sparse import BM25Encoder
from enclave_core.vectorstore import payload
from enclave_core.vectorstore.base import AccessScope, PointRecord
from enclave_core.vectorstore.edge import EdgeStore

DIM = 384


def _fill(store: EdgeStore, n: int) -> None:
    rng = np.random.default_rng(1)
    enc = BM25Encoder()
    store.ensure_collection("docs", DIM)
    for start in range(0, n, 1000):
        batch = [
            PointRecord(
                id=str(uuid.UUID(int=i + 1)),
                dense=rng.normal(size=DIM).astype(np.float32),
                sparse=enc.encode_document(f"chunk {i} words"),
                payload={payload.DOC_ID: f"doc{i // 5}", payload.ACL: ["staff" if i % 4 == 0 else "other"]},
            )
            for i in range(start, min(n, start + 1000))
        ]
        store.upsert("docs", batch)
    store.optimize("docs")


def _time(fn: Any, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def run(points: int, repeats: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        store = EdgeStore(Path(tmp) / "edge")
        try:
            _fill(store, points)
            scopes = {
                "collection": AccessScope(frozenset({"staff"})),
                "documents": AccessScope(
                    frozenset({"staff"}), doc_ids=frozenset({f"doc{i}" for i in range(0, 400, 7)})
                ),
            }
            result: dict[str, Any] = {"points": points, "load_at_start": list(os.getloadavg())}
            for name, scope in scopes.items():
                assert (store.count("docs", scope) > 0) == store.any_point("docs", scope)
                count: list[float] = []
                probe: list[float] = []
                for _ in range(rounds):  # interleaved
                    count += _time(lambda s=scope: store.count("docs", s), repeats)
                    probe += _time(lambda s=scope: store.any_point("docs", s), repeats)
                c, p = statistics.median(count), statistics.median(probe)
                result[name] = {
                    "count_p50_ms": round(c, 4),
                    "any_point_p50_ms": round(p, 4),
                    "speedup": round(c / p, 2),
                }
            result["load_at_end"] = list(os.getloadavg())
            return result
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args()
    result = run(args.points, args.repeats, args.rounds)
    result["path"] = str(write_result(args.out, "visibility-probe", result))
    print(result)


if __name__ == "__main__":
    main()

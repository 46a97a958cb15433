"""What one audit record costs a lone request: signed ``AuditLog.append`` latency, this tree against
another checkout (``--compare-tree``), in interleaved rounds, each tree in its own process on a fresh
log in the same filesystem.

    python -m benchmarks.audit_append --compare-tree /tmp/gw-base [--appends 150] [--rounds 4]

A short pause between appends keeps them lone (no group commit). Writes
``results/audit-append-<stamp>.json`` and prints p50/p95 per tree and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import write_result

REPO = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, sys, tempfile, time
from pathlib import Path
from enclave_core.audit.log import AuditLog
root = Path(tempfile.mkdtemp(dir=sys.argv[2]))
log = AuditLog(root / "audit", root / "secrets" / "audit.key")
log.append("setup")
chunks = [{"id": "c" * 32, "doc_id": "d" * 32, "score": 0.5}] * 8
took = []
for i in range(int(sys.argv[1])):
    t0 = time.perf_counter()
    log.append("search", question="How long is the notice period?", chunks=chunks, i=i)
    took.append(time.perf_counter() - t0)
    time.sleep(0.005)
took.sort()
print(json.dumps({"p50_ms": took[len(took) // 2] * 1000, "p95_ms": took[int(len(took) * 0.95)] * 1000}))
"""


def _round(tree: Path, appends: int, tmp: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(appends), str(tmp)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return dict(json.loads(done.stdout)) | {"load1": round(os.getloadavg()[0], 2)}


def run(compare_tree: Path, appends: int, rounds: int, tmp: Path) -> dict[str, Any]:
    trees = {"this": REPO, "compare": compare_tree}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(rounds):
        for name, tree in trees.items():
            runs[name].append(_round(tree, appends, tmp))
    summary = {
        name: {
            "p50_ms": round(statistics.median(r["p50_ms"] for r in rs), 2),
            "p95_ms": round(statistics.median(r["p95_ms"] for r in rs), 2),
        }
        for name, rs in runs.items()
    }
    ratios = {k: round(summary["compare"][k] / summary["this"][k], 2) for k in ("p50_ms", "p95_ms")}
    return {"compare_tree": str(compare_tree), "appends": appends, "rounds": runs, "median": summary, "ratios": ratios}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare-tree", type=Path, required=True)
    parser.add_argument("--appends", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tmp", type=Path, default=Path("/tmp"), help="where the logs go (the filesystem measured)")
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    result = run(args.compare_tree, args.appends, args.rounds, args.tmp)
    path = write_result(args.out, "audit-append", result)
    for name, row in result["median"].items():
        print(f"{name:8} p50 {row['p50_ms']:7.2f} ms  p95 {row['p95_ms']:7.2f} ms")
    ratios = result["ratios"]
    print(f"compare/this: p50 {ratios['p50_ms']}x, p95 {ratios['p95_ms']}x; load {os.getloadavg()[0]:.1f}")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

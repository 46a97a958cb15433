"""Same-run A/B of two gateway checkouts' search: many short alternating rounds, paired ratios.

Why: ``enclave bench gateway --compare-tree`` also times ``Retriever.search`` and ``RagService.search``
in every round, so on a loaded 2-core host a round of each variant lasts long enough for the load to
change between the two gateways. Here only the two gateways run, back to back (the order alternates
per round), and each round gives one paired ratio; the geometric mean and the median of those ratios
are the figure for one lever. Same data, same questions, same client as ``benchmarks/gateway.py``.

    python -m benchmarks.gateway_ab --base /tmp/gw-base [--tree .] --concurrency 1 32 --seconds 2 --rounds 8
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import write_result
from benchmarks.gateway import COLLECTION, QUESTIONS, REPO, GatewayProcess, _drive, prepare_data, search_client

__all__ = ["run_ab"]


def run_ab(tree: Path, base: Path, concurrency: list[int], seconds: float, rounds: int, log: Path) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="enclave-bench-gateway-ab-"))
    llm = "http://127.0.0.1:9/v1"  # search never calls the LLM
    gateways: dict[str, GatewayProcess] = {}
    try:
        _, copies, key = prepare_data(root, llm, 2)
        gateways = {
            "new": GatewayProcess(copies[0], llm, log, tree),
            "base": GatewayProcess(copies[1], llm, log.with_suffix(".base.log"), base),
        }
        for g in gateways.values():
            g.start(key)
        bodies = [json.dumps({"question": q, "collection": COLLECTION}).encode() for q in QUESTIONS]
        makers = {name: search_client(g.port, key, bodies) for name, g in gateways.items()}
        for make in makers.values():
            _drive(1, 1.0, make)  # warm
        out: dict[str, Any] = {}
        for n in concurrency:
            pairs: list[dict[str, Any]] = []
            for r in range(rounds):
                order = ["new", "base"] if r % 2 == 0 else ["base", "new"]
                got = {name: _drive(n, seconds, makers[name]) for name in order}
                pairs.append(
                    {
                        "new": got["new"],
                        "base": got["base"],
                        "rps_ratio": got["new"]["rps"] / got["base"]["rps"],
                        "p50_diff_ms": got["new"]["p50_ms"] - got["base"]["p50_ms"],
                        "load1": round(os.getloadavg()[0], 2),
                    }
                )
            ratios = [p["rps_ratio"] for p in pairs]
            out[str(n)] = {
                "rps_ratio_geomean": round(math.exp(statistics.fmean(math.log(x) for x in ratios)), 3),
                "rps_ratio_median": round(statistics.median(ratios), 3),
                "p50_diff_ms_median": round(statistics.median(p["p50_diff_ms"] for p in pairs), 2),
                "errors": sum(p["new"]["errors"] + p["base"]["errors"] for p in pairs),
                "rounds": pairs,
            }
            print(
                f"  {n:>2} clients: new/base throughput {out[str(n)]['rps_ratio_geomean']} (geomean), "
                f"{out[str(n)]['rps_ratio_median']} (median); p50 new-base {out[str(n)]['p50_diff_ms_median']} ms; "
                f"per round {[round(x, 2) for x in ratios]}",
                flush=True,
            )
        return out
    finally:
        for g in gateways.values():
            g.stop()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=REPO, help="the checkout under test (default: this one)")
    parser.add_argument("--base", type=Path, required=True, help="the checkout to compare against")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    load_start = [round(x, 2) for x in os.getloadavg()]
    log = args.out / f"gateway-ab-{time.strftime('%Y%m%dT%H%M%S')}-server.log"
    args.out.mkdir(parents=True, exist_ok=True)
    search = run_ab(args.tree.resolve(), args.base.resolve(), args.concurrency, args.seconds, args.rounds, log)
    result = {
        "tree": str(args.tree.resolve()),
        "base": str(args.base.resolve()),
        "seconds_per_round": args.seconds,
        "search": search,
        "load_at_start": load_start,
        "load_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    path = write_result(args.out, "gateway-ab", result)
    print(f"load average at start {result['load_at_start']}, at end {result['load_at_end']}; results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

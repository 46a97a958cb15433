"""CPU of a detection child's start (ingest/analysis_pool.py ``_start``), without and with the regex cache.

``python -m benchmarks.child_start [--rounds 3]``

Each start is a fresh interpreter that runs what a spawned child runs (imports, the Redactor from
the policy, ``warm_up``) and reports its own CPU seconds; the two kinds alternate, so the ratio
holds on a shared machine. The cache is written once by a first start (its cost reported apart)
into a temporary data directory, as the first ``enclave ingest`` writes it.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import write_result
from enclave_core.regex_cache import regex_cache_key, regex_cache_path
from enclave_core.settings import load_settings

__all__ = ["main", "run_child_start"]

_CHILD = """
import json, resource, sys, time
start = time.perf_counter()
from ingest.analysis_pool import _start
_start(sys.argv[1], 0, sys.argv[2] or None, bytes.fromhex(sys.stdin.read().strip()))
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": time.perf_counter() - start}))
"""


def _start_once(policy: Path, cache: Path | None, key: bytes) -> dict[str, float]:
    """One child start; the cache's key goes through stdin, as the real children get it through a pipe."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(policy), str(cache or "")],
        input=key.hex(),
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_child_start(out_dir: Path, rounds: int) -> dict[str, Any]:
    policy = load_settings({}).redaction_policy_path
    with tempfile.TemporaryDirectory(prefix="enclave-child-start-") as tmp:
        cache = regex_cache_path(Path(tmp) / "data")
        key = regex_cache_key(secrets.token_bytes(32))  # a data key of this run's own
        first = _start_once(policy, cache, key)  # writes the cache
        samples: dict[str, list[dict[str, float]]] = {"no cache": [], "cache": []}
        for _ in range(rounds):
            samples["no cache"].append(_start_once(policy, None, key))
            samples["cache"].append(_start_once(policy, cache, key))
        size = cache.stat().st_size
    result: dict[str, Any] = {"rounds": rounds, "first_start_writes_cache": first, "cache_bytes": size}
    for name, runs in samples.items():
        result[name] = {
            "cpu_s_median": round(statistics.median(r["cpu_s"] for r in runs), 3),
            "wall_s_median": round(statistics.median(r["wall_s"] for r in runs), 3),
            "cpu_s": [round(r["cpu_s"], 3) for r in runs],
        }
    result["cpu_ratio_no_cache_over_cache"] = round(
        result["no cache"]["cpu_s_median"] / result["cache"]["cpu_s_median"], 2
    )
    result["path"] = str(write_result(out_dir, "child-start", result))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    result = run_child_start(args.out, args.rounds)
    print(json.dumps({k: v for k, v in result.items() if k != "path"}, indent=1))
    print(f"results: {result['path']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

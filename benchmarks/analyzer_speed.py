"""English PII analyzer speed, this tree against an older one, interleaved in one run (issue 24).

    git worktree add /tmp/analyzer-base <old commit> && cp benchmarks/analyzer_speed.py /tmp/analyzer-base/benchmarks/
    .venv/bin/python benchmarks/analyzer_speed.py compare --base /tmp/analyzer-base --rounds 3

Each round runs one fresh process per tree (alternating which goes first) that measures, in order:
construction (CPU seconds from ``import enclave_core.redaction`` to the end of ``Redactor.warm_up()``), short
questions one call at a time (``detect_many([question])``, as the gateway's ``pseudonymize_query``) on one
thread and on 8 threads, and SciFact abstracts in one ``detect_many`` (as ingest), in characters per second.
A second fresh process per tree answers one question without ``warm_up`` (the cold CLI case: import, build,
compile what the question needs). Wall and CPU time are both recorded (CPU is the steadier on a shared host).
Speed-ups (above 1 = the new tree is faster) pair the old and new process of each round, median over rounds.
Writes results/analyzer-speed-<UTC stamp>.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ENCLAVE_SHARED_BENCH", ROOT.parent / "shared" / "bench"))
_THREADS = 8
#: A question with a digit and a place: most gates let it through (a fair cold case, not the cheapest).
COLD_QUESTION = "Does aspirin lower the risk of stroke in patients over 65 in Boston?"


def measure(questions: int, abstracts: int) -> dict[str, Any]:
    """One process's figures (see the module doc); the caller starts a fresh process per measurement."""
    cpu0 = time.process_time()
    from enclave_core.redaction import Redactor

    redactor = Redactor.from_policy_file(ROOT / "policies" / "redaction.yaml")
    redactor.warm_up()
    construction_cpu = time.process_time() - cpu0

    with (SHARED / "scifact" / "queries.jsonl").open(encoding="utf-8") as f:
        qs = [json.loads(line)["text"] for _, line in zip(range(questions), f, strict=False)]
    with gzip.open(SHARED / "scifact" / "corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        abs_texts = [json.loads(line)["text"] for _, line in zip(range(abstracts), f, strict=False)]
    redactor.detect_many(qs[:5])  # first-call costs out of the way in both trees

    per_call = []
    c = time.process_time()
    for q in qs:
        t = time.perf_counter()
        redactor.detect_many([q])
        per_call.append(time.perf_counter() - t)
    question_cpu = (time.process_time() - c) / len(qs)

    t, c = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(_THREADS) as pool:
        list(pool.map(lambda q: redactor.detect_many([q]), qs))
    threaded = len(qs) / (time.perf_counter() - t)
    threaded_cpu = (time.process_time() - c) / len(qs)

    t, c = time.perf_counter(), time.process_time()
    redactor.detect_many(abs_texts)
    abstract_secs, abstract_cpu = time.perf_counter() - t, time.process_time() - c
    chars = sum(map(len, abs_texts))
    return {
        "construction_cpu_s": construction_cpu,
        "question_ms_mean": 1000 * statistics.fmean(per_call),
        "question_ms_p50": 1000 * statistics.median(per_call),
        "question_cpu_ms": 1000 * question_cpu,
        "questions_per_s_8_threads": threaded,
        "question_cpu_ms_8_threads": 1000 * threaded_cpu,
        "abstract_chars_per_s": chars / abstract_secs,
        "abstract_chars_per_cpu_s": chars / abstract_cpu,
    }


def cold(question: str) -> dict[str, Any]:
    """A one-question process without ``warm_up`` (what a CLI ``enclave search`` pays for redaction)."""
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    from enclave_core.redaction import Redactor

    Redactor.from_policy_file(ROOT / "policies" / "redaction.yaml").detect_many([question])
    return {"cold_question_cpu_s": time.process_time() - cpu0, "cold_question_wall_s": time.perf_counter() - wall0}


def compare(base: Path, rounds: int, questions: int, abstracts: int) -> dict[str, Any]:
    trees = {"old": base.resolve(), "new": ROOT}
    runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
    for k in range(rounds):
        for name in ("old", "new") if k % 2 == 0 else ("new", "old"):
            script = trees[name] / "benchmarks" / "analyzer_speed.py"
            cmd = [sys.executable, str(script), "measure", "--questions", str(questions), "--abstracts", str(abstracts)]
            env = {**os.environ, "ENCLAVE_SHARED_BENCH": str(SHARED)}
            out = subprocess.run(cmd, cwd=trees[name], env=env, capture_output=True, text=True, check=True)
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            cmd = [sys.executable, str(script), "cold", "--question", COLD_QUESTION]
            out = subprocess.run(cmd, cwd=trees[name], env=env, capture_output=True, text=True, check=True)
            runs[name].append({**figures, **json.loads(out.stdout.strip().splitlines()[-1])})
            print(f"round {k + 1} {name}: {runs[name][-1]}", flush=True)
    median = {name: {key: statistics.median(r[key] for r in rs) for key in rs[0]} for name, rs in runs.items()}
    # Each ratio pairs the two processes of one round (they ran back to back), then takes the median.
    speedups = {  # figure -> whether larger is faster
        "construction_cpu_s": False,
        "cold_question_cpu_s": False,
        "question_ms_mean": False,
        "question_cpu_ms": False,
        "questions_per_s_8_threads": True,
        "question_cpu_ms_8_threads": False,
        "abstract_chars_per_s": True,
        "abstract_chars_per_cpu_s": True,
    }
    ratios = {
        f"{key}_speedup": statistics.median(
            (n[key] / o[key]) if larger else (o[key] / n[key]) for o, n in zip(runs["old"], runs["new"], strict=True)
        )
        for key, larger in speedups.items()
    }
    return {
        "base": str(trees["old"]),
        "rounds": rounds,
        "questions": questions,
        "abstracts": abstracts,
        "load_average": os.getloadavg(),
        "median": median,
        "ratios": ratios,
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure")
    sub.add_parser("cold").add_argument("--question", default=COLD_QUESTION)
    c = sub.add_parser("compare")
    c.add_argument("--base", type=Path, required=True)
    c.add_argument("--rounds", type=int, default=3)
    c.add_argument("--out", type=Path, default=None)
    for p in (m, c):
        p.add_argument("--questions", type=int, default=100)
        p.add_argument("--abstracts", type=int, default=40)
    args = parser.parse_args(argv)
    if args.command == "measure":
        print(json.dumps(measure(args.questions, args.abstracts)))
        return 0
    if args.command == "cold":
        print(json.dumps(cold(args.question)))
        return 0
    result = compare(args.base, args.rounds, args.questions, args.abstracts)
    if args.out is None:
        args.out = ROOT / "results" / f"analyzer-speed-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result["ratios"], indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())

"""Would one union regex of the Presidio pattern recognizers' patterns be a cheaper pre-filter?

Why: a question that no pattern matches still pays every pattern recognizer's scan. If one union
regex per flag set (``(?:p1)|(?:p2)|...``, which matches wherever any of its patterns does) were
cheaper than the separate scans, a miss could skip them all. This times both on the gateway
benchmark's questions, interleaved. Prints the ratio; writes results/pattern-union-<stamp>.json.

    python -m benchmarks.pattern_union [--repeats 300]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import regex

from benchmarks.common import write_result
from benchmarks.gateway import QUESTIONS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    os.environ.setdefault("ENCLAVE_DATA_DIR", tempfile.mkdtemp(prefix="enclave-pattern-union-"))
    from presidio_analyzer import PatternRecognizer

    from enclave_core.runtime import Core
    from enclave_core.settings import load_settings

    core = Core(load_settings(dict(os.environ)))
    redactor = core.redactor
    redactor.warm_up()
    analyzer = redactor._get_analyzer("en")
    by_flags: dict[int, list[str]] = defaultdict(list)
    for recognizer in analyzer.registry.recognizers:
        if isinstance(recognizer, PatternRecognizer) and type(recognizer).analyze is PatternRecognizer.analyze:
            own: list[Any] = list(vars(recognizer)["patterns"])
            by_flags[int(recognizer.global_regex_flags or 0)].extend(p.regex for p in own)
    separate = [regex.compile(p, flags) for flags, patterns in by_flags.items() for p in patterns]
    unions = [regex.compile("|".join(f"(?:{p})" for p in patterns), flags) for flags, patterns in by_flags.items()]
    timings: dict[str, list[float]] = {"separate": [], "union": []}
    for _ in range(3):  # interleaved rounds
        started = time.perf_counter()
        for i in range(args.repeats):
            question = QUESTIONS[i % len(QUESTIONS)]
            for pattern in separate:
                for _match in pattern.finditer(question):
                    pass
        timings["separate"].append((time.perf_counter() - started) / args.repeats * 1e6)
        started = time.perf_counter()
        for i in range(args.repeats):
            question = QUESTIONS[i % len(QUESTIONS)]
            for union in unions:
                union.search(question)
        timings["union"].append((time.perf_counter() - started) / args.repeats * 1e6)
    core.close()
    best = {name: round(min(values), 1) for name, values in timings.items()}
    result: dict[str, Any] = {
        "patterns": len(separate),
        "flag_sets": len(unions),
        "us_per_question_best_of_3": best,
        "rounds_us": timings,
        "union_over_separate": round(best["union"] / best["separate"], 2),
        "load": [round(x, 2) for x in os.getloadavg()],
    }
    path = write_result(args.out, "pattern-union", result)
    print(
        f"{len(separate)} patterns in {len(unions)} flag sets: separate scans {best['separate']} us, "
        f"union {best['union']} us per question ({result['union_over_separate']}x); load {result['load']}; {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

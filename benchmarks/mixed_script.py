"""What reading the other script's runs costs (security review F1): same-run A/B of ``redact_many``.

    .venv/bin/python -m benchmarks.mixed_script [--rounds 5] [--out results]

The Redactor reads a Japanese text's Latin-script runs with the English engine too, and an English
text's Japanese runs with the Japanese engine (``enclave_core.language.latin_runs`` /
``japanese_runs``). Arm ``old`` replaces both run finders by ones that find nothing, which is the
routing before the fix; arm ``new`` is the product. Rounds alternate the order (ABBA), both engines
are warm, and the figure is the paired ratio new/old (the host is shared: absolute times mean little).
Texts: the sample Japanese corpus cut at paragraphs into ~600-character chunks (few Latin runs, as
ordinary documents) and the pii_ja dev + unseen passages (dense in e-mails, romaji and phones).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.pii_genres import load_passages
from benchmarks.pii_ja import DATA_DIR
from enclave_core.policy.loader import policies_dir
from enclave_core.redaction import Redactor
from enclave_core.redaction import redactor as redactor_module
from ingest.loaders import load_document

__all__ = ["run_mixed_script_bench"]

CORPUS = Path("samples/corpus_ja")
CHUNK_CHARS = 600


def _corpus_chunks() -> list[str]:
    chunks = []
    for path in sorted(CORPUS.iterdir()):
        body = "\n".join(b.text for b in load_document(path.read_bytes(), path.name).blocks)
        buf = ""
        for para in body.split("\n"):
            if buf and len(buf) + len(para) > CHUNK_CHARS:
                chunks.append(buf)
                buf = ""
            buf += para + "\n"
        if buf.strip():
            chunks.append(buf)
    return chunks


@contextmanager
def _arm(arm: str) -> Iterator[None]:
    """``old``: no run is found, so each text goes to its own engine only (the routing before the fix)."""
    names = ("latin_runs", "japanese_runs")
    saved = {name: getattr(redactor_module, name) for name in names}
    if arm == "old":
        for name in names:
            setattr(redactor_module, name, _no_runs)
    try:
        yield
    finally:
        for name, finder in saved.items():
            setattr(redactor_module, name, finder)


def _no_runs(text: str) -> list[tuple[int, int]]:
    return []


def run_mixed_script_bench(rounds: int = 5) -> dict[str, Any]:
    redactor = Redactor.from_policy_file(policies_dir() / "redaction.yaml")
    redactor.warm_up(["en", "ja"])
    sets = {
        "corpus_ja_chunks": _corpus_chunks(),
        "pii_ja_passages": [r["full_text"] for n in ("dev", "unseen") for r in load_passages(DATA_DIR / f"{n}.txt")],
    }
    result: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "rounds": rounds, "sets": {}}
    result["load_before"] = os.getloadavg()
    for name, texts in sets.items():
        times: dict[str, list[float]] = {"old": [], "new": []}
        for i in range(rounds):
            for arm in ("new", "old") if i % 2 == 0 else ("old", "new"):
                with _arm(arm):
                    start = time.perf_counter()
                    redactor.redact_many(texts)
                    times[arm].append(time.perf_counter() - start)
        paired = [n / o for n, o in zip(times["new"], times["old"], strict=True)]
        result["sets"][name] = {
            "texts": len(texts),
            "chars": sum(map(len, texts)),
            "seconds": {arm: [round(t, 3) for t in ts] for arm, ts in times.items()},
            "new_to_old_paired_median": round(statistics.median(paired), 3),
            "new_to_old_paired": [round(p, 3) for p in paired],
        }
    result["load_after"] = os.getloadavg()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mixed_script", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    result = run_mixed_script_bench(args.rounds)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"mixed-script-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, r in result["sets"].items():
        print(
            f"{name}: {r['texts']} texts, {r['chars']} chars; new/old paired median "
            f"{r['new_to_old_paired_median']} ({' '.join(map(str, r['new_to_old_paired']))})"
        )
    print(f"load {result['load_before'][0]:.2f} -> {result['load_after'][0]:.2f}; written: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Is the GiNZA sentence gate (``enclave_core/redaction/japanese_gate.py``) safe, and what does it buy?

    .venv/bin/python -m benchmarks.ja_ner_gate [--rounds 2] [--out results]

On every Japanese PII set we have (``benchmarks/data/pii_ja`` dev and unseen, the sample corpus
``samples/corpus_ja`` with its planted values, the test fixtures ``tests/fixtures/japanese_pii``),
the product Redactor runs with the gate and without it, in the same process, interleaved. The gate
is safe on a set when every redaction of the ungated run is covered, character for character and
with the same entity type, by the gated run (``missed`` = 0). Reported: the share of characters
GiNZA still reads, the detections missed and added, and the time of each path.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.pii_genres import load_passages
from benchmarks.pii_ja_data import DATA_DIR

__all__ = ["compare", "main", "ner_share", "sets"]

SAMPLES = Path("samples/corpus_ja")
FIXTURES = Path("tests/fixtures/japanese_pii")


def _documents(folder: Path) -> list[str]:
    from ingest.loaders import load_document

    texts: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.is_file():
            texts.extend(b.text for b in load_document(path.read_bytes(), path.name).blocks)
    return texts


def sets() -> dict[str, list[str]]:
    """Every Japanese PII set, as the texts the Redactor is given."""
    return {
        "pii_ja_dev": [r["full_text"] for r in load_passages(DATA_DIR / "dev.txt")],
        "pii_ja_unseen": [r["full_text"] for r in load_passages(DATA_DIR / "unseen.txt")],
        "samples_corpus_ja": _documents(SAMPLES),
        "test_fixtures": _documents(FIXTURES),
    }


Found = list[set[tuple[int, str]]]


def _chars(redactor: Any, texts: Sequence[str]) -> Found:
    """Per text: the (character, entity) pairs that are redacted."""
    return [{(i, d.entity) for d in found for i in range(d.start, d.end)} for found in redactor.detect_many(texts)]


def compare(ungated: Found, gated: Found) -> dict[str, int]:
    missed = sum(len(u - g) for u, g in zip(ungated, gated, strict=True))
    added = sum(len(g - u) for u, g in zip(ungated, gated, strict=True))
    texts_missed = sum(1 for u, g in zip(ungated, gated, strict=True) if u - g)
    return {"missed_chars": missed, "added_chars": added, "texts_with_misses": texts_missed}


def ner_share(texts: Sequence[str]) -> float:
    """Share of the characters that the gate sends to GiNZA."""
    from enclave_core.redaction.japanese_engine import GatedGinzaEngine, shared_ja_nlp_engine
    from enclave_core.redaction.japanese_gate import ner_regions

    nlp = shared_ja_nlp_engine().nlp["ja"]  # type: ignore[index]
    kept = sum(e - s for t in texts for s, e in ner_regions(nlp.make_doc(t), GatedGinzaEngine.gate))
    return kept / max(sum(len(t) for t in texts), 1)


def run(rounds: int) -> dict[str, Any]:
    from dataclasses import replace

    from enclave_core.policy.loader import policies_dir
    from enclave_core.redaction import Redactor
    from enclave_core.redaction.japanese_engine import GatedGinzaEngine

    redactor = Redactor.from_policy_file(policies_dir() / "redaction.yaml")
    redactor.warm_up(["en", "ja"])
    on = GatedGinzaEngine.gate
    off = replace(on, enabled=False)
    result: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "load": os.getloadavg()}
    for name, texts in sets().items():
        seconds = {"ungated": 0.0, "gated": 0.0}
        found: dict[str, Found] = {}
        for _ in range(rounds):
            for label, gate in (("ungated", off), ("gated", on)):
                GatedGinzaEngine.gate = gate
                start = time.perf_counter()
                found[label] = _chars(redactor, texts)
                seconds[label] += time.perf_counter() - start
        GatedGinzaEngine.gate = on
        result[name] = {
            "texts": len(texts),
            "chars": sum(len(t) for t in texts),
            "ner_char_share": round(ner_share(texts), 3),
            **compare(found["ungated"], found["gated"]),
            "seconds_ungated": round(seconds["ungated"] / rounds, 2),
            "seconds_gated": round(seconds["gated"] / rounds, 2),
            "speedup": round(seconds["ungated"] / max(seconds["gated"], 1e-9), 2),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ja_ner_gate")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    result = run(args.rounds)
    for name, row in result.items():
        if isinstance(row, dict):
            print(name, json.dumps(row, ensure_ascii=False))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"ja-ner-gate-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"load {result['load']}; written: {path}")
    return 0 if all(r["missed_chars"] == 0 for r in result.values() if isinstance(r, dict)) else 1


if __name__ == "__main__":
    raise SystemExit(main())

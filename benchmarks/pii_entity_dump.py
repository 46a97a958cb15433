"""Dump every English detection (type, start, end, score) on fixed texts, to prove a speed change detects the same.

Run the copy in each tree (a git worktree of the old commit beside this one), then diff:

    git worktree add ../base <old commit> && cp benchmarks/pii_entity_dump.py ../base/benchmarks/
    .venv/bin/python ../base/benchmarks/pii_entity_dump.py dump /tmp/before.json
    .venv/bin/python benchmarks/pii_entity_dump.py dump /tmp/after.json
    .venv/bin/python benchmarks/pii_entity_dump.py diff /tmp/before.json /tmp/after.json

Texts: presidio-synth dev.json, our genre dev set (benchmarks/data/pii_genres/dev.txt), the English sample corpus
(samples/corpus, through the ingest loaders) and SciFact questions and abstracts. Every set goes through the batch
path (``detect_many`` over all texts, as ingest calls it); questions, genre passages and the first synth texts also
one at a time (``detect_many([text])``, as the gateway calls it for a question). The script imports ``enclave_core``
from the tree it sits in; the shared data sets are read from ``$ENCLAVE_SHARED_BENCH`` (default ../shared/bench).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ENCLAVE_SHARED_BENCH", ROOT.parent / "shared" / "bench"))
_QUESTIONS = 300
_ABSTRACTS = 200
_SINGLE_SYNTH = 150


def _texts() -> dict[str, list[str]]:
    from benchmarks.pii_genres import load_passages

    sets: dict[str, list[str]] = {}
    synth = json.loads((SHARED / "presidio-synth" / "dev.json").read_text(encoding="utf-8"))
    sets["synth"] = [r["full_text"] for r in synth]
    sets["genres"] = [p["full_text"] for p in load_passages(ROOT / "benchmarks" / "data" / "pii_genres" / "dev.txt")]
    sets["corpus"] = _corpus_texts(ROOT / "samples" / "corpus")
    with (SHARED / "scifact" / "queries.jsonl").open(encoding="utf-8") as f:
        sets["questions"] = [json.loads(line)["text"] for _, line in zip(range(_QUESTIONS), f, strict=False)]
    with gzip.open(SHARED / "scifact" / "corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        sets["abstracts"] = [json.loads(line)["text"] for _, line in zip(range(_ABSTRACTS), f, strict=False)]
    return sets


def _corpus_texts(folder: Path) -> list[str]:
    from ingest.loaders import load_document

    texts: list[str] = []
    for path in sorted(folder.iterdir()):
        doc = load_document(path.read_bytes(), path.name)
        texts.extend(block.text for block in doc.blocks if block.text.strip())
    return texts


def dump(out: Path) -> None:
    from enclave_core.redaction import Redactor

    redactor = Redactor.from_policy_file(ROOT / "policies" / "redaction.yaml")
    result: dict[str, Any] = {}
    for name, texts in _texts().items():
        result[f"{name}/batch"] = [_rows(found) for found in redactor.detect_many(texts)]
        if name in ("questions", "genres", "synth"):
            single = texts[:_SINGLE_SYNTH] if name == "synth" else texts
            result[f"{name}/single"] = [_rows(redactor.detect_many([t])[0]) for t in single]
    out.write_text(json.dumps(result), encoding="utf-8")
    print(f"{out}: " + ", ".join(f"{k} {len(v)} texts {sum(map(len, v))} spans" for k, v in result.items()))


def _rows(found: list[Any]) -> list[list[Any]]:
    return [[d.entity, d.start, d.end, round(d.score, 6)] for d in found]


def diff(before: Path, after: Path) -> int:
    """Print every text whose detections differ; the number of differing texts is the exit status (capped)."""
    a = json.loads(before.read_text(encoding="utf-8"))
    b = json.loads(after.read_text(encoding="utf-8"))
    differing = 0
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key, []), b.get(key, [])
        if len(left) != len(right):
            print(f"{key}: {len(left)} texts before, {len(right)} after")
            differing += 1
            continue
        bad = [k for k, (x, y) in enumerate(zip(left, right, strict=True)) if x != y]
        for k in bad[:5]:
            print(f"{key}[{k}]: before {left[k]} after {right[k]}")
        differing += len(bad)
        print(f"{key}: {len(left)} texts, {sum(map(len, left))} spans, {len(bad)} differ")
    print("IDENTICAL" if differing == 0 else f"{differing} texts differ")
    return min(differing, 100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("dump").add_argument("out", type=Path)
    d = sub.add_parser("diff")
    d.add_argument("before", type=Path)
    d.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(args.out)
        return 0
    return diff(args.before, args.after)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())

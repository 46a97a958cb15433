"""Compare candidate NER models through the whole Redactor, never on the benchmark.

    .venv/bin/python -m training.pii_ner.compare --model /tmp/cand/model \
        --dev training/pii_ner/data/dev.jsonl training/pii_ner/data/dev_foreign.jsonl

Two figures per model, written as JSON:

- on each dev file (``generate.py``: held-out templates and cities, and the foreign-style set):
  per gold label, the share of spans whose characters the Redactor covers at least 90 %, the share
  of gold characters it removes whatever label it gives them, and the benchmark's own span scoring
  (``benchmarks.pii.score_records``: presidio-evaluator, IoU 0.75, F2);
- redactions on every fifth SciFact abstract (scientific text with almost no personal data, so
  nearly every redaction there is a false positive): counts per entity type.

The model is swapped in by pointing the engine at its directory; the policy is the shipped one.
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["coverage", "main", "to_synth_record"]

POLICY = Path("policies/redaction.yaml")
SCIFACT = Path("../shared/bench/scifact")
PII_LABELS = ("PERSON", "STREET_ADDRESS", "GPE", "PHONE_NUMBER", "AGE")  # ORG is kept by the policy


def coverage(gold: list[tuple[int, int, str]], found: list[tuple[int, int]]) -> dict[str, Counter[str]]:
    """Per label: spans, spans at least 90 % covered, characters, characters covered."""
    covered: set[int] = set()
    for start, end in found:
        covered.update(range(start, end))
    out: dict[str, Counter[str]] = {}
    for start, end, label in gold:
        chars = end - start
        hit = sum(1 for i in range(start, end) if i in covered)
        c = out.setdefault(label, Counter())
        c["spans"] += 1
        c["found"] += int(hit >= 0.9 * chars)
        c["chars"] += chars
        c["chars_covered"] += hit
    return out


# Our training labels -> presidio-synth's gold labels (the same names but ORG), so dev can be
# scored like the benchmark.
TO_SYNTH = {label: label for label in PII_LABELS} | {"ORG": "ORGANIZATION"}


def to_synth_record(row: dict[str, Any]) -> dict[str, Any]:
    """A dev row in presidio-synth's JSON format (what ``benchmarks.pii.score_records`` reads)."""
    text = row["text"]
    spans = [
        {"entity_type": TO_SYNTH[label], "entity_value": text[s:e], "start_position": s, "end_position": e}
        for s, e, label in row["spans"]
    ]
    return {"full_text": text, "masked": None, "spans": spans}


def _dev_scores(redactor: Any, dev: Path) -> dict[str, Any]:
    from benchmarks.pii import score_records

    rows = [json.loads(line) for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    found = redactor.detect_many([r["text"] for r in rows])
    # Dev labels only the types the NER learns; pattern-found types (cards, e-mails) in its text are
    # unlabelled, so predictions of them are left out rather than counted as false positives.
    scored = {"PERSON", "LOCATION", "STREET_ADDRESS", "ZIP_CODE", "PHONE_NUMBER", "AGE"}
    span_eval = score_records(
        [to_synth_record(r) for r in rows],
        [[(d.start, d.end, d.entity, d.score) for d in f if d.entity in scored] for f in found],
    )
    totals: dict[str, Counter[str]] = {}
    for row, dets in zip(rows, found, strict=True):
        gold = [(s, e, label) for s, e, label in row["spans"] if label in PII_LABELS]
        for label, c in coverage(gold, [(d.start, d.end) for d in dets]).items():
            totals.setdefault(label, Counter()).update(c)
    overall: Counter[str] = sum(totals.values(), Counter())
    report: dict[str, Any] = {
        label: {"recall": round(c["found"] / c["spans"], 4), "chars_removed": round(c["chars_covered"] / c["chars"], 4)}
        for label, c in sorted(totals.items())
    }
    report["overall"] = {
        "recall": round(overall["found"] / overall["spans"], 4),
        "chars_removed": round(overall["chars_covered"] / overall["chars"], 4),
    }
    report["span_evaluator"] = {
        label: {k: m[k] for k in ("precision", "recall", "f2")}
        for label, m in [("overall", span_eval["overall"]), *span_eval["per_entity"].items()]
    }
    return report


def _scifact_counts(redactor: Any, root: Path, every: int) -> dict[str, int]:
    texts: list[str] = []
    with gzip.open(root / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i % every == 0:
                row = json.loads(line)
                texts.append(f"{row.get('title') or ''}\n\n{row.get('text') or ''}")
    counts: Counter[str] = Counter(d.entity for dets in redactor.detect_many(texts) for d in dets)
    return {"abstracts": len(texts), "total": sum(counts.values()), **dict(counts.most_common())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="trained pipeline directory")
    ap.add_argument(
        "--dev",
        type=Path,
        nargs="+",
        required=True,
        help="dev.jsonl / dev_foreign.jsonl from training.pii_ner.generate",
    )
    ap.add_argument("--scifact", type=Path, default=SCIFACT)
    ap.add_argument("--every", type=int, default=5, help="use every N-th SciFact abstract")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    from enclave_core.offline import enforce_offline_env

    enforce_offline_env()
    from enclave_core.redaction import Redactor, engine

    engine.PII_MODEL_DIR = args.model.resolve()
    redactor = Redactor.from_policy_file(POLICY)
    redactor.warm_up()
    if engine.active_model_path() != engine.PII_MODEL_DIR:
        raise SystemExit(f"the engine did not load {args.model}")
    result: dict[str, Any] = {"model": str(args.model)}
    for dev in args.dev:
        result[dev.stem] = _dev_scores(redactor, dev)
    if (args.scifact / "corpus.jsonl.gz").is_file():
        result["scifact_redactions"] = _scifact_counts(redactor, args.scifact, args.every)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

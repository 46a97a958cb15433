"""`enclave bench answers --calibrate`: the evidence thresholds, chosen on the dev questions only.

No LLM is needed: the sample corpus is ingested, and for every dev question the retrieval
evidence (best question-sentence cosine, ``enclave_core.evidence``) is computed exactly as
``/v1/query`` computes it (``RagService.retrieval_evidence``: the pseudonymized question, the
collection's embedder, the same citations) for answerable and unanswerable questions. The refusal
threshold is the one with the best refusal correctness on dev, ties broken towards the lower
value (a false refusal hides a right answer; the goal weighs both, the user more the first).
An answer-support threshold is chosen the same way from a previous bench run's answers (pass
``--answers results/answers-*.json``): the cut between answers holding the facts and answers
that do not. The held-out split is never read here.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["best_threshold", "calibrate", "format_calibration"]


def best_threshold(positives: Sequence[float], negatives: Sequence[float]) -> tuple[float, float]:
    """The cut ``t`` maximising the share classified right when ``score >= t`` means positive;
    returns ``(t, accuracy)``. Candidates are midpoints between sorted scores; ties: lowest ``t``."""
    values = sorted({*positives, *negatives})
    if not values:
        return 0.0, 0.0
    cuts = [values[0] - 1e-6] + [(a + b) / 2 for a, b in itertools.pairwise(values)] + [values[-1] + 1e-6]
    total = len(positives) + len(negatives)
    best = (cuts[0], -1.0)
    for t in cuts:
        acc = (sum(p >= t for p in positives) + sum(n < t for n in negatives)) / total
        if acc > best[1] + 1e-12:
            best = (t, acc)
    return round(best[0], 4), round(best[1], 4)


def calibrate(answers_file: Path | None = None, data_dir: Path | None = None) -> dict[str, Any]:
    from benchmarks.answers import COLLECTION, CORPUS, facts_present, load_questions
    from enclave_core.evidence import EvidenceScorer, RetrievalEvidence, best_answer_sentences
    from enclave_core.grounding import QUOTE_SENTENCES
    from enclave_core.identity import LOCAL_ADMIN
    from enclave_core.runtime import Core
    from enclave_core.service import RagService
    from enclave_core.settings import load_settings
    from ingest.pipeline import Ingestor, collect_files

    questions = load_questions(["dev"])
    tmp = tempfile.TemporaryDirectory(prefix="enclave-calibrate-")
    root = data_dir or Path(tmp.name)
    settings = load_settings({"ENCLAVE_DATA_DIR": str(root), "ENCLAVE_ENV": "test"})
    core = Core(settings)
    try:
        files, _ = collect_files([CORPUS])
        ingestor = Ingestor(core)
        try:
            ingestor.ingest(files, COLLECTION)
        finally:
            ingestor.manifest.close()
        scorer = EvidenceScorer(core.embedders.embedder_for(COLLECTION), min_answer_support=0.0)
        service = RagService(core, via="cli")
        evidence: dict[str, RetrievalEvidence] = {}
        rows = []
        for q in questions:
            found, ev = service.retrieval_evidence(LOCAL_ADMIN, COLLECTION, q["question"])
            if ev is None:
                raise RuntimeError(f"no retrieval evidence for {q['id']} (answers.check_evidence off or nothing found)")
            evidence[q["id"]] = ev
            quote = " ".join(s.text for s in best_answer_sentences(ev, QUOTE_SENTENCES))
            rows.append(
                {
                    "id": q["id"],
                    "answerable": q["answerable"],
                    "pseudonymized": found.question != q["question"],
                    "question_support": round(ev.best_score, 4),
                    "best_sentence_has_facts": bool(q["answerable"] and facts_present(quote, q["facts"])),
                }
            )
        pos = [r["question_support"] for r in rows if r["answerable"]]
        neg = [r["question_support"] for r in rows if not r["answerable"]]
        refuse_below, refusal_acc = best_threshold(pos, neg)
        out: dict[str, Any] = {
            "split": "dev",
            "refuse_below": refuse_below,
            "refusal_correctness_dev": refusal_acc,
            "best_sentence_has_facts_dev": round(sum(r["best_sentence_has_facts"] for r in rows) / max(1, len(pos)), 4),
            "questions": rows,
        }
        if answers_file is not None:
            out.update(_answer_threshold(answers_file, questions, evidence, scorer))
        return out
    finally:
        core.close()
        tmp.cleanup()


def _answer_threshold(
    answers_file: Path, questions: list[dict[str, Any]], evidence: dict[str, Any], scorer: Any
) -> dict[str, Any]:
    """Support scores of a previous run's answers (answerable dev questions): right vs wrong."""
    from benchmarks.answers import facts_present

    facts = {q["id"]: q for q in questions if q["answerable"]}
    run = json.loads(answers_file.read_text(encoding="utf-8"))
    found: dict[str, dict[str, list[float]]] = {}
    for profile, rows in run["answers"].items():
        right: list[float] = []
        wrong: list[float] = []
        for r in rows:
            q = facts.get(r["id"])
            if q is None or r["split"] != "dev":
                continue
            support = scorer.support(evidence[r["id"]], r["answer"])
            score = (
                support.score
                if not support.reasons or support.reasons == ["no retrieved sentence is close to the answer"]
                else -1.0
            )
            (right if facts_present(r["answer"], q["facts"]) else wrong).append(score)
        found[profile] = {"right": right, "wrong": wrong}
    pos = [s for v in found.values() for s in v["right"]]
    neg = [s for v in found.values() for s in v["wrong"]]
    t, acc = best_threshold(pos, neg)
    return {
        "answers_file": str(answers_file),
        "min_answer_support": t,
        "answer_support_accuracy_dev": acc,
        "answer_scores": found,
    }


def format_calibration(result: dict[str, Any]) -> str:
    lines = [
        f"dev questions: {len(result['questions'])}; retrieval evidence refuse_below = {result['refuse_below']} "
        f"(refusal correctness on dev {100 * result['refusal_correctness_dev']:.1f}%)",
        f"the quoted sentences hold the facts (dev, answerable): {100 * result['best_sentence_has_facts_dev']:.1f}%",
    ]
    if "min_answer_support" in result:
        lines.append(
            f"answer support min_answer_support = {result['min_answer_support']} "
            f"(right vs wrong answers on dev {100 * result['answer_support_accuracy_dev']:.1f}%)"
        )
    lines.append(f"results: {result.get('path')}")
    return "\n".join(lines)

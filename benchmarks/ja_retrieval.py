"""`enclave bench ja` (a): Japanese retrieval quality on the sample corpus, through the real ingest and Retriever.

No public Japanese retrieval set ships in a package on the registries we can reach (JSQuAD, MIRACL-ja,
JaCWIR and Mr. TyDi are hub downloads), so the set is our own: ``benchmarks/data/ja_retrieval/
questions.tsv``, 112 questions over ``samples/corpus_ja/`` written as paraphrases (everyday words for
the rules' wording: 有休 for 年次有給休暇, 飛行機 for 航空機), split into dev and held-out halves.

A chunk is relevant when it contains the question's evidence span (compared after NFKC and without
whitespace), so the score does not depend on how the chunker cuts; a question whose span no chunk
holds (cut in two) counts every chunk of its gold document as relevant and is reported. Each candidate
embedding model ingests the corpus into a fresh store; dense, BM25 and hybrid then run through
``Retriever.search`` with the product's settings (for a ``*-ja`` collection: ``retrieval.collections``).
Fusion weights are compared on the dev half only (skip with ``--no-grid``); the held-out half is
reported for the product's settings and for the dev choice.
"""

from __future__ import annotations

import csv
import math
import tempfile
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import BenchCore, percentiles
from enclave_core.retrieval import Retriever
from enclave_core.settings import Settings, load_settings
from enclave_core.vectorstore.base import AccessScope
from ingest import Ingestor, SourceFile

__all__ = ["CANDIDATE_MODELS", "Question", "corpus_sources", "format_quality", "load_questions", "run_ja_quality"]

QUESTIONS = Path("benchmarks/data/ja_retrieval/questions.tsv")
CORPUS = Path("samples/corpus_ja")
COLLECTION = "bench-ja"
MODES = ("dense", "sparse", "hybrid")
METRICS = ["ndcg@10", "recall@10"]
CANDIDATE_MODELS = {
    "multilingual-e5-small": "packaged:multilingual-e5-small",
    "multilingual-e5-small-int8": "packaged:multilingual-e5-small-int8",
    "multilingual-e5-small-c": "packaged:multilingual-e5-small-c",
    "use-multilingual-v3": "packaged:use-multilingual-v3",
    "all-MiniLM-L6-v2": "packaged:all-MiniLM-L6-v2",
}
# (dense_weight, sparse_weight) under z-score fusion; the product default is first.
FUSION_GRID = [(0.4, 0.6), (0.5, 0.5), (0.6, 0.4), (0.3, 0.7), (0.2, 0.8), (0.7, 0.3), (0.8, 0.2)]


@dataclass(frozen=True)
class Question:
    id: str
    split: str
    doc: str
    evidence: str
    text: str


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t"))
    return [Question(r["id"], r["split"], r["doc"], r["evidence"], r["question"]) for r in rows]


def corpus_sources(corpus: Path = CORPUS) -> list[SourceFile]:
    """Every file of the corpus, its document id the file name (the stored source name may be redacted)."""
    return [SourceFile(p.name, path=p, doc_id=p.name) for p in sorted(corpus.iterdir()) if p.is_file()]


def _squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def relevance(questions: Sequence[Question], chunks: dict[str, tuple[str, str]]) -> tuple[dict[str, Any], list[str]]:
    """Qrels from chunk texts (chunk id -> (doc id, text)); also the questions whose span no chunk holds."""
    qrels: dict[str, dict[str, int]] = {}
    unmatched: list[str] = []
    for q in questions:
        span = _squash(q.evidence)
        hits = {cid: 1 for cid, (doc, text) in chunks.items() if doc == q.doc and span in _squash(text)}
        if not hits:
            unmatched.append(q.id)
            hits = {cid: 1 for cid, (doc, _) in chunks.items() if doc == q.doc}
        qrels[q.id] = hits
    return qrels, unmatched


def bench_settings(data_dir: Path, model: str) -> Settings:
    settings = load_settings({"ENCLAVE_DATA_DIR": str(data_dir)})
    embedding = settings.embedding.model_copy(update={"model": model, "collections": {}})
    retrieval = settings.retrieval.model_copy(update={"candidates": max(settings.retrieval.candidates, 50)})
    return settings.model_copy(update={"embedding": embedding, "retrieval": retrieval})


def _score(
    retriever: Retriever, questions: Sequence[Question], qrels: dict[str, Any], mode: str
) -> tuple[dict[str, float], float, dict[str, float]]:
    """nDCG@10 and recall@10 over chunks, the share with the gold document in the top 3 citations, latency."""
    scope = AccessScope.unrestricted()
    run: dict[str, dict[str, float]] = {}
    top3 = 0
    latencies: list[float] = []
    for q in questions:
        start = time.perf_counter()
        citations = retriever.search(COLLECTION, q.text, scope, top_k=10, mode=mode)
        latencies.append(time.perf_counter() - start)
        run[q.id] = {c.chunk_id: 1.0 / rank for rank, c in enumerate(citations, start=1)} or {"__none__": 0.0}
        top3 += any(c.doc_id == q.doc for c in citations[:3])
    out = {
        k: round(sum(ranking_metrics(run[q.id], qrels[q.id])[k] for q in questions) / len(questions), 4)
        for k in METRICS
    }
    return out, round(top3 / len(questions), 4), percentiles(latencies)


def ranking_metrics(run: dict[str, float], relevant: dict[str, int], k: int = 10) -> dict[str, float]:
    """Binary-relevance nDCG@k and recall@k (as ranx and trec_eval define them)."""
    ranked = sorted(run, key=lambda cid: -run[cid])[:k]
    dcg = sum(1.0 / math.log2(rank + 1) for rank, cid in enumerate(ranked, start=1) if cid in relevant)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    found = sum(cid in relevant for cid in ranked)
    return {f"ndcg@{k}": dcg / ideal if ideal else 0.0, f"recall@{k}": found / len(relevant) if relevant else 0.0}


def _evaluate_model(
    name: str, model: str, questions: list[Question], redact: bool, grid: bool, work: Path
) -> dict[str, Any]:
    core = BenchCore(bench_settings(work / name, model))
    try:
        core.embedder.inner.embed_query("準備")  # model load is start-up cost, not ingest cost
        report = Ingestor(core).ingest(corpus_sources(), COLLECTION, ["bench"], redact=redact)
        failed = [f"{o.source}: {o.error}" for o in report.failed]
        chunks = {
            hit.id: (str(hit.payload.get("doc_id", "")), str(hit.payload.get("text", "")))
            for hit in core.store.iter_points(COLLECTION)
        }
        qrels, unmatched = relevance(questions, chunks)
        splits = {s: [q for q in questions if q.split == s] for s in ("dev", "heldout")}
        result: dict[str, Any] = {
            "model": model,
            "model_id": core.embedder.model_id,
            "dimension": core.embedder.dimension,
            "documents": report.count("ingested"),
            "failed": failed,
            "chunks": len(chunks),
            "ingest_seconds": round(report.seconds, 2),
            "embedding_seconds": round(core.embedder.watch.seconds, 2),
            "unmatched_evidence": unmatched,
            "modes": {},
        }
        for mode in MODES:
            row: dict[str, Any] = {}
            for split, qs in splits.items():
                metrics, top3, latency = _score(core.retriever, qs, qrels, mode)
                row[split] = {**metrics, "gold_doc_in_top3": top3, "latency_ms": latency}
            result["modes"][mode] = row
        if grid:
            result["fusion_grid_dev"] = _fusion_grid(core, splits["dev"], qrels)
            best = max(result["fusion_grid_dev"], key=lambda r: (r["ndcg@10"], -abs(r["dense_weight"] - 0.4)))
            retriever = _retriever(core, best["dense_weight"], best["sparse_weight"])
            metrics, top3, _ = _score(retriever, splits["heldout"], qrels, "hybrid")
            result["hybrid_dev_choice"] = {
                "dense_weight": best["dense_weight"],
                "sparse_weight": best["sparse_weight"],
                "heldout": {**metrics, "gold_doc_in_top3": top3},
            }
        return result
    finally:
        core.close()


def _retriever(core: BenchCore, dense_weight: float, sparse_weight: float) -> Retriever:
    update = {"dense_weight": dense_weight, "sparse_weight": sparse_weight, "collections": {}}
    settings = core.settings.retrieval.model_copy(update=update)
    return Retriever(core.store, core.embedder, core.sparse, settings, embedders=core.embedders)


def _fusion_grid(core: BenchCore, dev: list[Question], qrels: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for dense_weight, sparse_weight in FUSION_GRID:
        metrics, top3, _ = _score(_retriever(core, dense_weight, sparse_weight), dev, qrels, "hybrid")
        rows.append({"dense_weight": dense_weight, "sparse_weight": sparse_weight, **metrics, "gold_doc_in_top3": top3})
    return rows


def run_ja_quality(models: Sequence[str], redact: bool = True, grid: bool = True) -> dict[str, Any]:
    questions = load_questions()
    with tempfile.TemporaryDirectory(prefix="enclave-bench-ja-") as tmp:
        results: dict[str, Any] = {}
        for name in models:
            results[name] = _evaluate_model(name, CANDIDATE_MODELS[name], questions, redact, grid, Path(tmp))
            print(format_quality({"models": {name: results[name]}}), flush=True)  # slow machines: show progress
    return {
        "questions": {
            "dev": sum(q.split == "dev" for q in questions),
            "heldout": sum(q.split == "heldout" for q in questions),
        },
        "redaction": redact,
        "models": results,
    }


def format_quality(result: dict[str, Any]) -> str:
    lines = [f"{'model / mode':34} {'split':8} {'nDCG@10':>8} {'R@10':>7} {'top3doc':>8}"]
    for name, res in result["models"].items():
        for mode, row in res["modes"].items():
            for split, m in row.items():
                label = f"{name} / {mode}"
                lines.append(
                    f"{label:34} {split:8} {m['ndcg@10']:8.4f} {m['recall@10']:7.4f} {m['gold_doc_in_top3']:8.4f}"
                )
        choice = res.get("hybrid_dev_choice")
        if choice:
            m = choice["heldout"]
            label = f"{name} / hybrid {choice['dense_weight']}/{choice['sparse_weight']} (dev)"
            lines.append(
                f"{label:34} {'heldout':8} {m['ndcg@10']:8.4f} {m['recall@10']:7.4f} {m['gold_doc_in_top3']:8.4f}"
            )
    return "\n".join(lines)

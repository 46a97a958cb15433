"""Does int8 hold the embedding model's retrieval quality? float32 and int8 ONNX graphs in one run.

``python -m benchmarks.embedding_int8 --dataset ../shared/bench/scifact [--distractors 1000]``

A reduced SciFact: every document relevant to a test query plus ``--distractors`` other abstracts,
chunked as ingest chunks them (settings.yaml), no redaction, no store: dense retrieval by the best
chunk per document, scored with ranx. Both graphs see the same chunks and queries, so the nDCG@10
difference, the cosine between their vectors and their embedding times are a same-run comparison.
It is cheaper than ``make bench-retrieval`` over all 5,183 abstracts and easier than it (fewer
distractors), so it can show a loss but does not replace the full benchmark's figure.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from ranx import Qrels, Run, evaluate

from benchmarks.common import write_result
from benchmarks.scifact import load_dataset
from enclave_core.embedding import resolve_model_path
from enclave_core.embedding.onnx_runtime import OnnxEmbedder
from enclave_core.retrieval import embedding_text
from enclave_core.settings import load_settings
from ingest.chunking import chunk_document
from ingest.loaders import load_document

__all__ = ["main", "run_int8_quality"]


def _chunks(dataset_dir: Path, distractors: int) -> tuple[list[str], list[str], dict[str, str], Any]:
    data = load_dataset(dataset_dir)
    qrels = data.qrels["test"]
    relevant = {doc for docs in qrels.values() for doc in docs}
    others = [d for d in data.corpus if d not in relevant][:distractors]
    settings = load_settings({})
    texts: list[str] = []
    owners: list[str] = []
    for doc_id in sorted(relevant & set(data.corpus)) + others:
        title, text = data.corpus[doc_id]
        doc = load_document(f"# {title}\n\n{text}".encode(), f"{doc_id}.md")
        for chunk in chunk_document(
            doc, max_words=settings.chunking.max_words, overlap_words=settings.chunking.overlap_words
        ):
            texts.append(embedding_text(doc.title, chunk.heading, chunk.text))
            owners.append(doc_id)
    queries = {q: data.queries[q] for q in qrels}
    return texts, owners, queries, qrels


def _ndcg(
    chunk_vectors: np.ndarray, owners: list[str], query_vectors: np.ndarray, qids: list[str], qrels: Any
) -> float:
    run: dict[str, dict[str, float]] = {}
    for qid, scores in zip(qids, query_vectors @ chunk_vectors.T, strict=True):
        best: dict[str, float] = {}
        for owner, score in zip(owners, scores.tolist(), strict=True):
            if score > best.get(owner, -2.0):
                best[owner] = score
        run[qid] = dict(sorted(best.items(), key=lambda kv: -kv[1])[:100])
    return float(evaluate(Qrels(qrels), Run(run), "ndcg@10"))


def run_int8_quality(dataset: Path, out_dir: Path, distractors: int = 1000) -> dict[str, Any]:
    texts, owners, queries, qrels = _chunks(dataset, distractors)
    model = resolve_model_path(load_settings({}).embedding.model)
    qids = list(queries)
    result: dict[str, Any] = {"documents": len(set(owners)), "chunks": len(texts), "queries": len(qids)}
    vectors: dict[str, np.ndarray] = {}
    for name, quantize in (("float32", False), ("int8", True)):
        embedder = OnnxEmbedder(model, 64, quantize=quantize)
        embedder.embed_documents(["load and export outside the timing"])
        start = time.perf_counter()
        vectors[name] = embedder.embed_documents(texts)
        seconds = time.perf_counter() - start
        query_vectors = embedder.embed_documents([queries[q] for q in qids])
        result[name] = {
            "embed_seconds": round(seconds, 2),
            "chunks_per_s": round(len(texts) / seconds, 2),
            "dense_ndcg@10": round(_ndcg(vectors[name], owners, query_vectors, qids, qrels), 4),
        }
    cosines = (vectors["float32"] * vectors["int8"]).sum(axis=1)
    result["cosine_int8_vs_float32"] = {"mean": round(float(cosines.mean()), 5), "min": round(float(cosines.min()), 5)}
    result["ndcg_delta"] = round(result["int8"]["dense_ndcg@10"] - result["float32"]["dense_ndcg@10"], 4)
    result["speed_ratio"] = round(result["float32"]["embed_seconds"] / result["int8"]["embed_seconds"], 2)
    result["path"] = str(write_result(out_dir, "embedding-int8", result))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--distractors", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    result = run_int8_quality(args.dataset, args.out, args.distractors)
    print({k: v for k, v in result.items() if k != "path"})
    print(f"results: {result['path']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

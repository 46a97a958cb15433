"""ONNX Runtime's spinning worker threads: CPU and wall of the ingest's embedding, with and without.

``python -m benchmarks.embedding_threads --dataset ../shared/bench/scifact [--docs 100 --rounds 4 --int8]``

The first ``--docs`` SciFact abstracts, loaded and chunked as ``enclave ingest`` does, embedded in
batches of 16 documents (the ingest's batch) by two sessions of the same graph that differ only in
``session.intra_op.allow_spinning``; rounds alternate their order. CPU is the process's (all
threads), so the spinning shows up where a wall clock would hide it. Also: one-question query
latency (p50 over the test questions), the CPU the process burns in the 150 ms after each question
(spinning threads left busy), and the largest difference between the sessions' vectors. A third
embedder spins with ONNX Runtime's default spin duration instead of ``QUESTION_SPIN_US``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import percentiles, write_result
from benchmarks.scifact import load_dataset
from enclave_core.embedding import resolve_model_path
from enclave_core.embedding.onnx_runtime import QUESTION_SPIN_US, OnnxEmbedder
from enclave_core.retrieval import embedding_text
from enclave_core.settings import load_settings
from ingest.chunking import chunk_document
from ingest.loaders import load_document

__all__ = ["main", "run_embedding_threads"]


def _batches(dataset: Path, docs: int) -> tuple[list[list[str]], list[str]]:
    data = load_dataset(dataset)
    settings = load_settings({})
    per_doc: list[list[str]] = []
    for doc_id, (title, text) in list(data.corpus.items())[:docs]:
        doc = load_document(f"{title}\n\n{text}\n".encode(), f"{doc_id}.txt")
        chunks = chunk_document(
            doc, max_words=settings.chunking.max_words, overlap_words=settings.chunking.overlap_words
        )
        per_doc.append([embedding_text(doc.title, c.heading, c.text) for c in chunks])
    batches = [[t for doc in per_doc[i : i + 16] for t in doc] for i in range(0, len(per_doc), 16)]
    return batches, [data.queries[q] for q in sorted(data.qrels["test"])][:100]


def run_embedding_threads(dataset: Path, out_dir: Path, docs: int, rounds: int, int8: bool) -> dict[str, Any]:
    batches, questions = _batches(dataset, docs)
    model = resolve_model_path(load_settings({}).embedding.model)
    embedders = {
        name: OnnxEmbedder(model, 64, quantize=int8, spinning=spin, spin_us=spin_us)
        for name, spin, spin_us in (
            ("spinning", True, QUESTION_SPIN_US),
            ("no spinning", False, None),
            ("spinning, ORT default duration", True, None),
        )
    }
    for e in embedders.values():
        e.embed_documents(["load outside the timing"])
    cpu: dict[str, list[float]] = {n: [] for n in embedders}
    wall: dict[str, list[float]] = {n: [] for n in embedders}
    query: dict[str, list[float]] = {n: [] for n in embedders}
    after: dict[str, list[float]] = {n: [] for n in embedders}
    vectors: dict[str, np.ndarray] = {}
    for r in range(rounds):
        order = list(embedders) if r % 2 == 0 else list(reversed(embedders))
        for name in order:
            e = embedders[name]
            c0, w0 = time.process_time(), time.perf_counter()
            vectors[name] = np.concatenate([e.embed_documents(b) for b in batches])
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
            for q in questions[r::rounds]:
                start = time.perf_counter()
                e.embed_query(q)
                query[name].append(time.perf_counter() - start)
                c0 = time.process_time()
                time.sleep(0.15)  # what the threads burn while the caller waits (for vLLM, say)
                after[name].append((time.process_time() - c0) * 1000)
    result: dict[str, Any] = {
        "variant": "int8" if int8 else "float32",
        "documents": docs,
        "chunks": sum(len(b) for b in batches),
        "rounds": rounds,
        "max_abs_vector_difference": float(np.abs(vectors["spinning"] - vectors["no spinning"]).max()),
    }
    for name in embedders:
        result[name] = {
            "cpu_s_median": round(statistics.median(cpu[name]), 3),
            "wall_s_median": round(statistics.median(wall[name]), 3),
            "cpu_s": [round(x, 3) for x in cpu[name]],
            "query": percentiles(query[name]),
            "query_cpu_after_ms_median": round(statistics.median(after[name]), 2),
        }
    result["cpu_ratio_spinning_over_not"] = round(
        result["spinning"]["cpu_s_median"] / result["no spinning"]["cpu_s_median"], 3
    )
    result["path"] = str(write_result(out_dir, "embedding-threads", result))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--int8", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    result = run_embedding_threads(args.dataset, args.out, args.docs, args.rounds, args.int8)
    print({k: v for k, v in result.items() if k != "path"})
    print(f"results: {result['path']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Does int8 hold hybrid retrieval with redaction on? float32 and int8 embedding in one run.

``python -m benchmarks.int8_hybrid --dataset ../shared/bench/scifact``

All SciFact abstracts go through the product's ``Ingestor`` with redaction on twice, once with the
float32 ONNX graph and once with the int8 one (``embedding.quantize``), each into its own fresh data
dir; the test queries then go through ``Retriever.search`` (hybrid, dense), scored as
``enclave bench retrieval`` scores them. The personal-data detection, the costly half of the
ingest, runs once: the first ingest detects as the product does (in its child processes), its
detections (per text) are kept and replayed to the second, whose own Pseudonymizer and vault turn
them into placeholders in the same order, so both stores hold the same texts and only the vectors
differ. int8 runs first (its figure is the one in question); the file is written after each
variant. Nothing is tuned on the test split.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import BenchCore, write_result
from benchmarks.retrieval import bench_settings, corpus_files, ingest_corpus, search_split
from benchmarks.scifact import load_dataset

__all__ = ["DetectionMemo", "main", "run_int8_hybrid"]

VARIANTS = (("int8", True), ("float32", False))


class DetectionMemo:
    """A Redactor whose ``detect_many``/``redact_many`` answer each text once: later calls with a
    text already seen (the second variant's ingest, its queries) get the first result back."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._memo: dict[tuple[str, str], Any] = {}
        self.hits = 0
        self.misses = 0

    def remember(self, kind: str, texts: Sequence[str], results: Sequence[Any]) -> None:
        """Results computed elsewhere (the ingest's detection children) for ``texts``."""
        for text, found in zip(texts, results, strict=True):
            self._memo.setdefault((kind, text), found)

    def _many(self, kind: str, texts: Sequence[str], compute: Callable[[list[str]], list[Any]]) -> list[Any]:
        missing = list(dict.fromkeys(t for t in texts if (kind, t) not in self._memo))
        if missing:
            for text, found in zip(missing, compute(missing), strict=True):
                self._memo[(kind, text)] = found
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        return [self._memo[(kind, t)] for t in texts]

    def detect_many(self, texts: Sequence[str]) -> list[Any]:
        return self._many("detect", texts, self.inner.detect_many)

    def redact_many(self, texts: Sequence[str]) -> list[Any]:
        return self._many("redact", texts, self.inner.redact_many)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _KeepChildDetections:
    """The Pseudonymizer, passing the detections the children made to the memo on their way."""

    def __init__(self, inner: Any, memo: DetectionMemo) -> None:
        self.inner, self.memo = inner, memo

    def apply_detections(self, collection: str, texts: Sequence[str], doc_ids: Sequence[str], found: Any) -> Any:
        self.memo.remember("detect", texts, found)
        return self.inner.apply_detections(collection, texts, doc_ids, found)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _variant(
    name: str, quantize: bool, work: Path, data: Any, files: list[Any], memo: DetectionMemo | None
) -> tuple[dict[str, Any], DetectionMemo]:
    settings = bench_settings(work / name, 200)
    update: dict[str, Any] = {"embedding": settings.embedding.model_copy(update={"quantize": quantize})}
    if memo is not None:  # replayed: in this process, from the memo
        update["ingest"] = settings.ingest.model_copy(update={"analysis_processes": 0})
    core = BenchCore(settings.model_copy(update=update))
    first = memo is None
    memo = memo or DetectionMemo(core.redactor)
    core.__dict__["redactor"] = memo  # before core.pii is built, so the Pseudonymizer uses it
    if first:
        core.__dict__["pii"] = _KeepChildDetections(core.pii, memo)
    try:
        out: dict[str, Any] = {"ingest": ingest_corpus(core, files, True, f"redaction on, {name}")}
        out["embedding_seconds"] = round(core.embedder.watch.seconds, 2)
        out["chunks"] = len(core.embedder.texts)
        for mode in ("hybrid", "dense"):
            metrics, _, _ = search_split(core, data, "test", mode, top_k=200)
            out[mode] = metrics
        return out, memo
    finally:
        core.close()


def run_int8_hybrid(dataset: Path, out_dir: Path, limit_docs: int | None = None) -> dict[str, Any]:
    data = load_dataset(dataset)
    files = corpus_files(data, limit_docs)
    work = Path(tempfile.mkdtemp(prefix="enclave-bench-int8-"))
    result: dict[str, Any] = {"dataset": str(dataset), "documents": len(files), "split": "test", "variants": {}}
    memo: DetectionMemo | None = None
    start = time.perf_counter()
    try:
        for name, quantize in VARIANTS:
            result["variants"][name], memo = _variant(name, quantize, work, data, files, memo)
            print(name, result["variants"][name], flush=True)
            if name != VARIANTS[-1][0]:
                print("partial:", write_result(out_dir, "int8-hybrid-partial", result), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert memo is not None
    result["detection_replayed"] = {"hits": memo.hits, "misses": memo.misses}
    f32, i8 = result["variants"]["float32"], result["variants"]["int8"]
    result["delta_ndcg@10"] = {m: round(i8[m]["ndcg@10"] - f32[m]["ndcg@10"], 5) for m in ("hybrid", "dense")}
    result["embedding_speed_ratio"] = round(f32["embedding_seconds"] / i8["embedding_seconds"], 2)
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["path"] = str(write_result(out_dir, "int8-hybrid", result))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--limit-docs", type=int, default=None, help="first N abstracts only (a smoke run)")
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    result = run_int8_hybrid(args.dataset, args.out, args.limit_docs)
    print({k: v for k, v in result.items() if k != "path"})
    print(f"results: {result['path']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

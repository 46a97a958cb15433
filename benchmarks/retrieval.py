"""`enclave bench retrieval`: SciFact through the appliance's own ingest and search paths.

Ingest goes through ``ingest.Ingestor`` (loader -> redaction -> chunking -> embedding -> store) and
queries through ``Retriever.search``; chunk hits are aggregated to documents (best chunk wins) and
scored with ranx. Speed figures are reported next to a baseline measured in the same run (pure
embedding of the very chunk texts the pipeline embedded), because the machines are shared and noisy.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ranx import Qrels, Run, evaluate
from tqdm import tqdm

from benchmarks.common import BenchCore, percentiles, write_result
from benchmarks.scifact import Dataset, load_dataset, published_rows
from enclave_core.settings import Settings, load_settings
from enclave_core.vectorstore.base import AccessScope
from ingest import Ingestor, SourceFile

__all__ = [
    "METRICS",
    "bench_settings",
    "doc_run",
    "ingest_corpus",
    "run_queries_only",
    "run_retrieval_bench",
    "search_split",
]

METRICS = ["ndcg@10", "recall@100", "mrr@10"]
COLLECTION = "scifact"
MODES = ("dense", "sparse", "hybrid")


def bench_settings(data_dir: Path, candidates: int, **retrieval: Any) -> Settings:
    """Product settings (settings.yaml) with the data dir moved away from ./data and deep candidate lists."""
    settings = load_settings({"ENCLAVE_DATA_DIR": str(data_dir)})
    update = {"candidates": candidates, **retrieval}
    return settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update=update)})


def corpus_files(dataset: Dataset, limit_docs: int | None = None) -> list[SourceFile]:
    """Each abstract as a Markdown file: ``# title``, blank line, text; the document id is the corpus _id.

    Markdown, not .txt: the plain-text loader keeps the title line as a paragraph too, and since
    title + abstract usually exceed the 180-word chunk limit, 3,135 of 5,183 abstracts would get a
    chunk holding the title alone (11,703 chunks instead of 8,565). With an H1 the title is the
    document title and heading, carried by every chunk through ``embedding_text`` once, as in
    MTEB's ``title + " " + text``.
    """
    items = list(dataset.corpus.items())[:limit_docs]
    return [
        SourceFile(f"{doc_id}.md", data=f"# {title}\n\n{text}".encode(), doc_id=doc_id)
        for doc_id, (title, text) in items
    ]


def ingest_corpus(core: BenchCore, files: Sequence[SourceFile], redact: bool, label: str) -> dict[str, Any]:
    """Ingest through the real pipeline with a progress bar; returns throughput and stage times."""
    ingestor = Ingestor(core)
    core.embedder.inner.embed_query("warm up")  # model load is start-up cost, not ingest cost
    if redact:
        core.redactor.warm_up()
    with tqdm(total=len(files), unit="doc", desc=f"ingest ({label})", dynamic_ncols=True) as bar:
        chunks = 0

        def progress(outcome: Any) -> None:
            nonlocal chunks
            chunks += outcome.chunks
            bar.update(1)
            bar.set_postfix(chunks=chunks, refresh=False)

        report = ingestor.ingest(files, COLLECTION, ["bench"], redact=redact, progress=progress)
    failed = report.failed
    redactions: dict[str, int] = {}
    for outcome in report.outcomes:
        for key, value in outcome.redactions.items():
            redactions[key] = redactions.get(key, 0) + value
    return {
        "documents": report.count("ingested"),
        "failed": len(failed),
        "failed_examples": [f.error for f in failed[:5]],
        "chunks": report.chunks,
        "seconds": round(report.seconds, 3),
        "docs_per_s": round(report.count("ingested") / report.seconds, 2),
        "chunks_per_s": round(report.chunks / report.seconds, 2),
        "stage_seconds": {k: round(v, 3) for k, v in core.stage_seconds().items()},
        "redactions": dict(sorted(redactions.items(), key=lambda kv: -kv[1])),
    }


def pure_embedding_baseline(core: BenchCore, sample: int | None) -> dict[str, Any]:
    """Embed the texts the pipeline embedded, in one call: the floor the pipeline is compared to.

    With ``sample`` set, a seeded random sample of those texts is embedded and the time scaled to
    all of them (same length distribution, a fraction of the wall time on a 2-core machine).
    """
    texts = list(core.embedder.texts)
    chosen = texts
    if sample and sample < len(texts):
        chosen = random.Random(0).sample(texts, sample)
    start = time.perf_counter()
    core.embedder.inner.embed_documents(chosen)
    measured = time.perf_counter() - start
    seconds = measured * len(texts) / len(chosen)
    return {
        "texts": len(texts),
        "measured_texts": len(chosen),
        "measured_seconds": round(measured, 3),
        "seconds": round(seconds, 3),
        "texts_per_s": round(len(chosen) / measured, 2),
    }


def dump_candidates(core: BenchCore, dataset: Dataset, split: str, limit: int, path: Path) -> None:
    """Raw dense and sparse candidate lists of every query of a split, plus every chunk's indexed
    text: enough to tune fusion and BM25 offline without re-ingesting or searching again."""
    scope = AccessScope.unrestricted()
    with path.open("w", encoding="utf-8") as fh:
        for qid in tqdm(sorted(dataset.qrels[split]), desc=f"dump {split}", unit="q", dynamic_ncols=True):
            question = dataset.queries[qid]
            dense, sparse = core.store.search(
                COLLECTION, core.embedder.embed_query(question), core.sparse.encode_query(question), scope, limit
            )
            row = {
                "qid": qid,
                "dense": [[h.id, str(h.payload.get("doc_id")), h.score] for h in dense],
                "sparse": [[h.id, str(h.payload.get("doc_id")), h.score] for h in sparse],
            }
            fh.write(json.dumps(row) + "\n")
    chunks_path = path.with_name(path.stem + "-chunks.jsonl")
    with chunks_path.open("w", encoding="utf-8") as fh:
        for cid, doc_id, text in core.store.chunks:  # type: ignore[attr-defined]
            fh.write(json.dumps([cid, doc_id, text]) + "\n")


def doc_run(citations: Sequence[Any], depth: int = 100) -> dict[str, float]:
    """Chunk hits -> documents, best chunk first; scores are 1/rank so ranx sees the exact order."""
    ranked: dict[str, float] = {}
    for citation in citations:
        if citation.doc_id not in ranked:
            ranked[citation.doc_id] = 1.0 / (len(ranked) + 1)
            if len(ranked) == depth:
                break
    return ranked


def search_split(
    core: BenchCore, dataset: Dataset, split: str, mode: str, top_k: int
) -> tuple[dict[str, float], dict[str, float], dict[str, dict[str, float]]]:
    """Run every query of a split through Retriever.search; returns metrics, latency, the run."""
    qrels = dataset.qrels[split]
    scope = AccessScope.unrestricted()
    run: dict[str, dict[str, float]] = {}
    latencies: list[float] = []
    for qid in tqdm(sorted(qrels), desc=f"{split}/{mode}", unit="q", leave=False, dynamic_ncols=True):
        start = time.perf_counter()
        citations = core.retriever.search(COLLECTION, dataset.queries[qid], scope, top_k=top_k, mode=mode)
        latencies.append(time.perf_counter() - start)
        run[qid] = doc_run(citations) or {"__none__": 0.0}
    scores = evaluate(Qrels.from_dict(qrels), Run.from_dict(run), METRICS)
    return {k: round(float(v), 5) for k, v in scores.items()}, percentiles(latencies), run


def _variant(
    dataset: Dataset,
    files: Sequence[SourceFile],
    redact: bool,
    modes: Sequence[str],
    splits: Sequence[str],
    engine: str,
    candidates: int,
    overhead: bool,
    work: Path,
    baseline_sample: int | None,
    dump_dir: Path | None,
) -> dict[str, Any]:
    label = "redaction on" if redact else "redaction off"
    data_dir = work / ("redact" if redact else "plain")
    core = BenchCore(bench_settings(data_dir, candidates), engine=engine)
    try:
        out: dict[str, Any] = {"redact": redact, "ingest": ingest_corpus(core, files, redact, label)}
        if overhead:
            base = pure_embedding_baseline(core, baseline_sample)
            out["pure_embedding"] = base
            out["overhead_ratio"] = round(out["ingest"]["seconds"] / base["seconds"], 3)
        out["results"] = {}
        for split in splits:
            for mode in modes:
                metrics, latency, _ = search_split(core, dataset, split, mode, top_k=candidates)
                out["results"][f"{split}/{mode}"] = {"metrics": metrics, "latency": latency}
        if dump_dir is not None:
            dump_dir.mkdir(parents=True, exist_ok=True)
            name = "redact" if redact else "plain"
            dump_candidates(core, dataset, "train", candidates, dump_dir / f"train-{name}.jsonl")
        return out
    finally:
        core.close()


def run_queries_only(
    dataset: Path,
    out_dir: Path,
    data_dir: Path,
    modes: Sequence[str] = MODES,
    *,
    splits: Sequence[str] = ("test",),
    engine: str = "edge",
    candidates: int = 200,
    **retrieval: Any,
) -> dict[str, Any]:
    """Query an already ingested data dir through Retriever.search (fusion settings overridable):
    query-side changes are measured without paying for another ingest."""
    data = load_dataset(dataset)
    settings = bench_settings(data_dir, candidates, **retrieval)
    core = BenchCore(settings, engine=engine)
    results: dict[str, Any] = {}
    try:
        for split in splits:
            for mode in modes:
                metrics, latency, _ = search_split(core, data, split, mode, top_k=candidates)
                results[f"{split}/{mode}"] = {"metrics": metrics, "latency": latency}
    finally:
        core.close()
    result: dict[str, Any] = {
        "dataset": str(dataset),
        "engine": engine,
        "reused_data_dir": str(data_dir),
        "settings": {"retrieval": settings.retrieval.model_dump()},
        "published_test": published_rows(dataset),
        "variants": {"reused_store": {"results": results}},
    }
    result["path"] = str(write_result(out_dir, "retrieval-queries", result))
    return result


def run_retrieval_bench(
    dataset: Path,
    out_dir: Path,
    modes: Sequence[str] = MODES,
    redact: bool | None = None,
    *,
    splits: Sequence[str] = ("test",),
    engine: str = "edge",
    candidates: int = 200,
    limit_docs: int | None = None,
    keep_data: bool = False,
    baseline_sample: int | None = 2000,
    dump_dir: Path | None = None,
) -> dict[str, Any]:
    """Ingest SciFact (with redaction, without, or both when ``redact`` is None), query, score.

    The overhead ratio (total ingest / pure embedding of the same chunk texts) is measured on the
    redacted variant, the product's default path.
    """
    data = load_dataset(dataset)
    files = corpus_files(data, limit_docs)
    variants = [True, False] if redact is None else [redact]
    work = Path(tempfile.mkdtemp(prefix="enclave-bench-"))  # never the user's ./data
    result: dict[str, Any] = {
        "dataset": str(dataset),
        "engine": engine,
        "documents_offered": len(files),
        "candidates_per_retriever": candidates,
        "published_test": published_rows(dataset),
        "variants": {},
    }
    settings = bench_settings(work / "probe", candidates)
    result["settings"] = {
        "retrieval": settings.retrieval.model_dump(),
        "chunking": settings.chunking.model_dump(),
        "embedding": settings.embedding.model_dump(),
    }
    try:
        for flag in variants:
            key = "redaction_on" if flag else "redaction_off"
            result["variants"][key] = _variant(
                data,
                files,
                flag,
                modes,
                splits,
                engine,
                candidates,
                overhead=flag or redact is False,
                work=work,
                baseline_sample=baseline_sample,
                dump_dir=dump_dir,
            )
    finally:
        if not keep_data:
            shutil.rmtree(work, ignore_errors=True)
    if "redaction_on" in result["variants"] and "redaction_off" in result["variants"]:
        on, off = result["variants"]["redaction_on"], result["variants"]["redaction_off"]
        result["redaction_cost"] = {
            key: round(on["results"][key]["metrics"]["ndcg@10"] - off["results"][key]["metrics"]["ndcg@10"], 5)
            for key in on["results"]
        } | {"ingest_time_ratio_on_off": round(on["ingest"]["seconds"] / off["ingest"]["seconds"], 3)}
    if keep_data:
        result["kept_data_dir"] = str(work)
    result["path"] = str(write_result(out_dir, "retrieval", result))
    return result


def format_table(result: dict[str, Any]) -> str:
    """A readable summary: our rows next to the published ones, then speed."""
    lines = [f"{'run':38} {'nDCG@10':>8} {'R@100':>8} {'MRR@10':>8} {'p50 ms':>8} {'p95 ms':>8}"]
    for label, row in result["published_test"].items():
        lines.append(f"{label:38} {row['ndcg@10']:8.4f} {row['recall@100']:8.4f} {row['mrr@10']:8.4f}")
    for vkey, variant in result["variants"].items():
        for rkey, res in variant["results"].items():
            m, lat = res["metrics"], res["latency"]
            lines.append(
                f"{'enclave ' + rkey + ' (' + vkey + ')':38} {m['ndcg@10']:8.4f} {m['recall@100']:8.4f}"
                f" {m['mrr@10']:8.4f} {lat['p50_ms']:8.1f} {lat['p95_ms']:8.1f}"
            )
    for vkey, variant in result["variants"].items():
        if "ingest" not in variant:
            continue
        ing = variant["ingest"]
        line = (
            f"ingest ({vkey}): {ing['documents']} docs, {ing['chunks']} chunks in {ing['seconds']:.1f} s"
            f" = {ing['docs_per_s']:.1f} docs/s, {ing['chunks_per_s']:.1f} chunks/s; stages {ing['stage_seconds']}"
        )
        if "overhead_ratio" in variant:
            line += (
                f"; pure embedding {variant['pure_embedding']['seconds']:.1f} s"
                f" (measured on {variant['pure_embedding']['measured_texts']} texts)"
                f" -> overhead ratio {variant['overhead_ratio']:.2f}x (goal <= 1.3x)"
            )
        lines.append(line)
    if "redaction_cost" in result:
        lines.append(f"redaction cost (nDCG@10 on - off): {result['redaction_cost']}")
    lines.append(f"results: {result['path']}")
    return "\n".join(lines)

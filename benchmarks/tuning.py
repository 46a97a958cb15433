"""`enclave bench tune`: choose BM25 and fusion parameters on SciFact's train qrels only.

BM25 is scored offline, exactly as the store scores it (document weights from the product's
tokenizer and BM25 formula, query weight 1 per distinct term, IDF ``ln(1 + (N - df + 0.5) /
(df + 0.5))`` over chunks, as Qdrant's IDF modifier computes it) on the product's own chunks
(loader -> chunking -> embedding_text), so a grid over k1, b, avg_len and the tokenizer costs
seconds instead of one re-ingest per point. Fusion is tuned on the dense and sparse candidate
lists that ``bench retrieval --dump-dir`` wrote for the train queries (no search is repeated).
The test split is never read here.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ranx import Qrels, Run, evaluate
from scipy import sparse as sp

from benchmarks.common import write_result
from benchmarks.retrieval import corpus_files
from benchmarks.scifact import Dataset, load_dataset
from enclave_core.embedding import sparse as bm25
from enclave_core.retrieval import embedding_text, fuse
from enclave_core.settings import RetrievalSettings, load_settings
from enclave_core.vectorstore.base import Hit
from ingest.chunking import chunk_document
from ingest.loaders import load_document

__all__ = ["format_tuning", "fusion_grid", "product_chunks", "run_tuning"]

SPLIT = "train"


def product_chunks(dataset: Dataset) -> list[tuple[str, str]]:
    """(doc id, indexed text) of every chunk, cut by the product's loader and chunker (no redaction)."""
    settings = load_settings({})
    out: list[tuple[str, str]] = []
    for file in corpus_files(dataset):
        doc = load_document(file.read(), file.source)
        for chunk in chunk_document(
            doc, max_words=settings.chunking.max_words, overlap_words=settings.chunking.overlap_words
        ):
            out.append((str(file.doc_id), embedding_text(doc.title, chunk.heading, chunk.text)))
    return out


def _tokenizer(stem: bool, stop: bool) -> Callable[[str], list[str]]:
    def tok(text: str) -> list[str]:
        words = [w for w in bm25._TOKEN.findall(text.lower()) if len(w) < 40 and not (stop and w in bm25._STOPWORDS)]
        return list(bm25._stemmer.stemWords(words)) if stem else words

    return tok


def _doc_run(order: Sequence[int], chunk_docs: Sequence[str], depth: int = 100) -> dict[str, float]:
    ranked: dict[str, float] = {}
    for i in order:
        d = chunk_docs[i]
        if d not in ranked:
            ranked[d] = 1.0 / (len(ranked) + 1)
            if len(ranked) == depth:
                break
    return ranked


def _score(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    run = {q: (r or {"__none__": 0.0}) for q, r in run.items()}
    scores = evaluate(Qrels.from_dict(qrels), Run.from_dict(run), ["ndcg@10", "recall@100", "mrr@10"])
    return {k: round(float(v), 5) for k, v in scores.items()}


class OfflineBM25:
    """The store's BM25 scoring replicated in numpy: document weights from the product formula,
    query weight 1 per distinct term, Qdrant's IDF over the indexed chunks."""

    def __init__(self, texts: Sequence[str], stem: bool = True, stop: bool = True) -> None:
        self.tok = _tokenizer(stem, stop)
        self.vocab: dict[str, int] = {}
        indptr, indices, tfs, lengths = [0], [], [], []
        for text in texts:
            counts = Counter(self.tok(text))
            for term, tf in counts.items():
                indices.append(self.vocab.setdefault(term, len(self.vocab)))
                tfs.append(tf)
            indptr.append(len(indices))
            lengths.append(sum(counts.values()))
        self.indptr, self.indices = indptr, indices
        self.tf = np.asarray(tfs, dtype=np.float64)
        self.lengths = np.asarray(lengths, dtype=np.float64)
        self.n = len(texts)
        df = np.bincount(np.asarray(indices, dtype=np.int64), minlength=len(self.vocab))
        self.idf = np.log(1 + (self.n - df + 0.5) / (df + 0.5))
        self.mat: Any = None

    @property
    def mean_len(self) -> float:
        return float(self.lengths.mean())

    def fit(self, k1: float, b: float, avg_len: float) -> OfflineBM25:
        doc_len = np.repeat(self.lengths, np.diff(self.indptr))
        w = self.tf * (k1 + 1) / (self.tf + k1 * (1 - b + b * doc_len / avg_len))
        self.mat = sp.csr_matrix((w, self.indices, self.indptr), shape=(self.n, len(self.vocab))).tocsc()
        return self

    def search(self, query: str, top: int) -> list[tuple[int, float]]:
        ids = sorted({self.vocab[t] for t in self.tok(query) if t in self.vocab})
        if not ids:
            return []
        scores = np.asarray(self.mat[:, ids] @ self.idf[ids]).ravel()
        cand = np.argpartition(-scores, min(top, self.n - 1))[:top]
        cand = cand[scores[cand] > 0]
        order = sorted(cand.tolist(), key=lambda i: (-scores[i], i))
        return [(i, float(scores[i])) for i in order]


def bm25_grid(dataset: Dataset, chunks: list[tuple[str, str]], top: int = 200) -> list[dict[str, Any]]:
    """nDCG@10 on train for each BM25 variant; rows sorted best first."""
    qrels = dataset.qrels[SPLIT]
    qids = sorted(qrels)
    chunk_docs = [d for d, _ in chunks]
    rows: list[dict[str, Any]] = []
    for stem in (True, False):
        for stop in (True, False):
            tok = _tokenizer(stem, stop)
            docs_terms = [Counter(tok(t)) for _, t in chunks]
            vocab: dict[str, int] = {}
            indptr, indices, tfs, lengths = [0], [], [], []
            for counts in docs_terms:
                for term, tf in counts.items():
                    indices.append(vocab.setdefault(term, len(vocab)))
                    tfs.append(tf)
                indptr.append(len(indices))
                lengths.append(sum(counts.values()))
            tf_arr = np.asarray(tfs, dtype=np.float64)
            len_arr = np.repeat(np.asarray(lengths, dtype=np.float64), np.diff(indptr))
            n = len(chunks)
            df = np.bincount(np.asarray(indices), minlength=len(vocab))
            idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
            mean_len = float(np.mean(lengths))
            q_vectors = []
            for qid in qids:
                ids = sorted({vocab[t] for t in tok(dataset.queries[qid]) if t in vocab})
                q_vectors.append(ids)
            for k1 in (0.9, 1.2, 1.6):
                for b in (0.5, 0.75, 0.9):
                    for avg in (60.0, 120.0, round(mean_len, 1)):
                        w = tf_arr * (k1 + 1) / (tf_arr + k1 * (1 - b + b * len_arr / avg))
                        mat = sp.csr_matrix((w, indices, indptr), shape=(n, len(vocab))).tocsc()
                        run: dict[str, dict[str, float]] = {}
                        for qid, ids in zip(qids, q_vectors, strict=True):
                            if not ids:
                                run[qid] = {}
                                continue
                            scores = np.asarray(mat[:, ids] @ idf[ids]).ravel()
                            cand = np.argpartition(-scores, min(top, n - 1))[:top]
                            cand = cand[scores[cand] > 0]
                            order = sorted(cand.tolist(), key=lambda i: (-scores[i], i))
                            run[qid] = _doc_run(order, chunk_docs)
                        rows.append(
                            {"stem": stem, "stopwords": stop, "k1": k1, "b": b, "avg_len": avg, **_score(qrels, run)}
                        )
    rows.sort(key=lambda r: -r["ndcg@10"])
    return rows


def _load_dump(path: Path) -> dict[str, tuple[list[Hit], list[Hit]]]:
    out = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            lists = tuple([Hit(c, s, {"doc_id": d}) for c, d, s in row[key]] for key in ("dense", "sparse"))
            out[row["qid"]] = lists
    return out  # type: ignore[return-value]


def fusion_grid(dataset: Dataset, dump: Path) -> list[dict[str, Any]]:
    """Weighted RRF (rrf_k x weights x candidate depth) and z-score fusion (the product's ``fuse``) on train."""
    qrels = dataset.qrels[SPLIT]
    lists = _load_dump(dump)

    def run_of(order_fn: Callable[[list[Hit], list[Hit]], list[str]]) -> dict[str, dict[str, float]]:
        run = {}
        for qid in qrels:
            dense, sparse = lists[qid]
            docs = {h.id: str(h.payload["doc_id"]) for h in dense + sparse}
            ids = order_fn(dense, sparse)
            run[qid] = _doc_run(range(len(ids)), [docs[i] for i in ids])
        return run

    rows: list[dict[str, Any]] = []
    rows.append({"method": "dense only", **_score(qrels, run_of(lambda d, s: [h.id for h in d]))})
    rows.append({"method": "sparse only", **_score(qrels, run_of(lambda d, s: [h.id for h in s]))})
    for depth in (50, 100, 200):
        for k in (1, 5, 10, 20, 40, 60, 100):
            for dw in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0):
                settings = RetrievalSettings(fusion="rrf", rrf_k=k, dense_weight=dw, sparse_weight=1.0)
                fn = lambda d, s, st=settings, n=depth: [h.id for h, _ in fuse(d[:n], s[:n], st)]  # noqa: E731
                rows.append(
                    {
                        "method": "rrf",
                        "candidates": depth,
                        "rrf_k": k,
                        "dense_weight": dw,
                        "sparse_weight": 1.0,
                        **_score(qrels, run_of(fn)),
                    }
                )
    for depth in (50, 100, 200):
        for alpha in (0.3, 0.4, 0.5, 0.6, 0.7):
            zs = RetrievalSettings(fusion="zscore", dense_weight=alpha, sparse_weight=round(1 - alpha, 2))
            fn = lambda d, s, st=zs, n=depth: [h.id for h, _ in fuse(d[:n], s[:n], st)]  # noqa: E731
            rows.append({"method": "zscore", "candidates": depth, "alpha_dense": alpha, **_score(qrels, run_of(fn))})
    rows.sort(key=lambda r: -r["ndcg@10"])
    return rows


def run_tuning(dataset: Path, out_dir: Path, dump: Path | None = None, **_: Any) -> dict[str, Any]:
    data = load_dataset(dataset)
    chunks = product_chunks(data)
    result: dict[str, Any] = {"split": SPLIT, "queries": len(data.qrels[SPLIT]), "chunks": len(chunks)}
    rows = bm25_grid(data, chunks)
    current = next(
        r for r in rows if r["stem"] and r["stopwords"] and r["k1"] == 1.2 and r["b"] == 0.75 and r["avg_len"] == 120.0
    )
    result["bm25_current_defaults"] = current
    result["bm25_best"] = rows[0]
    result["bm25_grid_top10"] = rows[:10]
    if dump is not None and dump.exists():
        fusion = fusion_grid(data, dump)
        result["fusion_top10"] = fusion[:10]
        result["fusion_reference"] = [r for r in fusion if r["method"] != "rrf" and r["method"] != "zscore"] + [
            r for r in fusion if r.get("method") == "rrf" and r["rrf_k"] == 60 and r["dense_weight"] == 1.0
        ]
    result["path"] = str(write_result(out_dir, "tuning", result))
    return result


def format_tuning(result: dict[str, Any]) -> str:
    lines = [f"train queries: {result['queries']}, chunks: {result['chunks']}"]
    lines.append(f"BM25 current defaults: {result['bm25_current_defaults']}")
    for row in result["bm25_grid_top10"]:
        lines.append(f"BM25 {row}")
    for row in result.get("fusion_top10", []):
        lines.append(f"fusion {row}")
    for row in result.get("fusion_reference", []):
        lines.append(f"reference {row}")
    lines.append(f"results: {result['path']}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - ad-hoc use
    import sys

    r = run_tuning(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None)
    print(format_tuning(r))


def load_store_copy(path: Path) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """(chunk ids, doc ids, indexed texts, unit dense vectors) from a copy of an embedded store."""
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(path))
    try:
        name = client.get_collections().collections[0].name
        ids, docs, texts, vecs = [], [], [], []
        offset = None
        while True:
            points, offset = client.scroll(name, limit=1024, offset=offset, with_payload=True, with_vectors=["dense"])
            for p in points:
                pl = p.payload or {}
                ids.append(str(p.id))
                docs.append(str(pl.get("doc_id")))
                texts.append(embedding_text(str(pl.get("title", "")), pl.get("heading"), str(pl.get("text", ""))))
                vecs.append(p.vector["dense"])  # type: ignore[index,call-overload]
            if offset is None:
                break
    finally:
        client.close()
    mat = np.asarray(vecs, dtype=np.float32)
    mat /= np.linalg.norm(mat, axis=1, keepdims=True)
    return ids, docs, texts, mat


def offline_lists(
    dataset: Dataset,
    split: str,
    store: tuple[list[str], list[str], list[str], np.ndarray],
    index: OfflineBM25,
    top: int = 200,
) -> dict[str, tuple[list[Hit], list[Hit]]]:
    """Exact cosine (what the engines compute without HNSW) and offline BM25 candidate lists."""
    from enclave_core.embedding import build_embedder

    ids, docs, _, mat = store
    embedder = build_embedder(load_settings({}).embedding)
    qids = sorted(dataset.qrels[split])
    qv = embedder.embed_documents([dataset.queries[q] for q in qids])
    out = {}
    for qid, v in zip(qids, qv, strict=True):
        scores = mat @ v
        cand = np.argpartition(-scores, top)[:top]
        order = sorted(cand.tolist(), key=lambda i: (-scores[i], ids[i]))
        dense = [Hit(ids[i], float(scores[i]), {"doc_id": docs[i]}) for i in order]
        sparse = [Hit(ids[i], s, {"doc_id": docs[i]}) for i, s in index.search(dataset.queries[qid], top)]
        out[qid] = (dense, sparse)
    return out


def write_lists(lists: dict[str, tuple[list[Hit], list[Hit]]], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for qid, (dense, sparse) in lists.items():
            row = {
                "qid": qid,
                "dense": [[h.id, h.payload["doc_id"], h.score] for h in dense],
                "sparse": [[h.id, h.payload["doc_id"], h.score] for h in sparse],
            }
            fh.write(json.dumps(row) + "\n")
    return path


def _metrics_of(
    dataset: Dataset, split: str, lists: dict[str, tuple[list[Hit], list[Hit]]], order_fn: Callable[..., list[str]]
) -> dict[str, float]:
    run = {}
    for qid in dataset.qrels[split]:
        dense, sparse = lists[qid]
        docs = {h.id: str(h.payload["doc_id"]) for h in dense + sparse}
        ordered = order_fn(dense, sparse)
        run[qid] = _doc_run(range(len(ordered)), [docs[i] for i in ordered])
    return _score(dataset.qrels[split], run)


def run_store_tuning(
    dataset: Path, out_dir: Path, store_copy: Path, stem: bool, stop: bool, k1: float, b: float, avg_len: float
) -> dict[str, Any]:
    """Fusion tuned on train lists computed from a copy of an ingested store (BM25 with the given
    parameters re-scored offline), then the chosen configuration scored once on test."""
    data = load_dataset(dataset)
    store = load_store_copy(store_copy)
    index = OfflineBM25(store[2], stem=stem, stop=stop).fit(k1, b, avg_len)
    train = offline_lists(data, SPLIT, store, index)
    dump = write_lists(train, out_dir / "train-lists.jsonl")
    grid = fusion_grid(data, dump)
    best = next(r for r in grid if r["method"] in ("rrf", "zscore"))
    n = int(best["candidates"])
    if best["method"] == "rrf":
        st = RetrievalSettings(
            fusion="rrf", rrf_k=int(best["rrf_k"]), dense_weight=float(best["dense_weight"]), sparse_weight=1.0
        )
    else:
        alpha = float(best["alpha_dense"])
        st = RetrievalSettings(fusion="zscore", dense_weight=alpha, sparse_weight=round(1 - alpha, 2))
    chosen: Callable[..., list[str]] = lambda d, s: [h.id for h, _ in fuse(d[:n], s[:n], st)]  # noqa: E731
    test = offline_lists(data, "test", store, index)  # the test split is read once, after choosing
    result = {
        "bm25": {"stem": stem, "stopwords": stop, "k1": k1, "b": b, "avg_len": avg_len},
        "chunks": len(store[0]),
        "train_fusion_top10": grid[:10],
        "chosen": best,
        "test": {
            "dense": _metrics_of(data, "test", test, lambda d, s: [h.id for h in d]),
            "sparse": _metrics_of(data, "test", test, lambda d, s: [h.id for h in s]),
            "hybrid_chosen": _metrics_of(data, "test", test, chosen),
        },
    }
    result["path"] = str(write_result(out_dir, "tuning-store", result))
    return result

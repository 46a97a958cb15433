"""BEIR SciFact in its on-disk layout, and MTEB's published rows for it."""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Dataset", "load_dataset", "published_rows"]

# Which MTEB result file holds which published row (the file is the source of truth; these are labels).
_PUBLISHED = {
    "all-MiniLM-L6-v2 (MTEB)": "sentence-transformers__all-MiniLM-L6-v2__SciFact.json",
    "BM25 bm25s (MTEB)": "mteb__baseline-bm25s__SciFact.json",
    "bge-small-en-v1.5 (MTEB)": "BAAI__bge-small-en-v1.5__SciFact.json",
}


@dataclass
class Dataset:
    corpus: dict[str, tuple[str, str]]  # _id -> (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, dict[str, int]]]  # split -> query id -> doc id -> relevance


def load_dataset(root: Path) -> Dataset:
    corpus: dict[str, tuple[str, str]] = {}
    with gzip.open(root / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            corpus[str(row["_id"])] = (row.get("title") or "", row.get("text") or "")
    queries: dict[str, str] = {}
    with (root / "queries.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            queries[str(row["_id"])] = row["text"]
    qrels: dict[str, dict[str, dict[str, int]]] = {}
    for path in sorted((root / "qrels").glob("*.tsv")):
        split: dict[str, dict[str, int]] = {}
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                if int(row["score"]) > 0:
                    split.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
        qrels[path.stem] = split
    return Dataset(corpus, queries, qrels)


def published_rows(root: Path) -> dict[str, dict[str, float]]:
    """nDCG@10, recall@100, MRR@10 on the test split, read from MTEB's result files."""
    rows: dict[str, dict[str, float]] = {}
    for label, name in _PUBLISHED.items():
        path = root / "published" / name
        if not path.exists():
            continue
        scores = json.loads(path.read_text(encoding="utf-8"))["scores"]["test"][0]
        rows[label] = {
            "ndcg@10": float(scores["ndcg_at_10"]),
            "recall@100": float(scores["recall_at_100"]),
            "mrr@10": float(scores["mrr_at_10"]),
        }
    return rows

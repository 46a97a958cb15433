"""Hybrid retrieval: dense (embeddings) and sparse (BM25) candidates fused by score or by rank.

Both candidate lists come from the vector store already filtered by the caller's access
scope; fusion happens here so that each citation can say how each retriever ranked it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from enclave_core.embedding.base import Embedder, Vectors
from enclave_core.embedding.registry import CollectionEmbedders
from enclave_core.embedding.sparse import BM25Encoder
from enclave_core.errors import InvalidName, UnknownCollection
from enclave_core.locators import describe, from_payload, normalized
from enclave_core.settings import RetrievalSettings
from enclave_core.vectorstore import payload
from enclave_core.vectorstore.base import AccessScope, Hit, VectorStore

__all__ = ["Citation", "QueryEmbedding", "Retriever", "embedding_text", "fuse", "validate_collection_name"]

#: ``(embedder, text) -> vector``: how a caller supplies the query vector (batched, started early);
#: always asked for the exact text searched, by the collection's own embedder.
QueryEmbedding = Callable[[Embedder, str], Vectors]

_COLLECTION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def validate_collection_name(name: str) -> str:
    if not _COLLECTION_NAME.fullmatch(name):
        raise InvalidName(f"invalid collection name '{name}': use 1-63 lowercase letters, digits, '-' or '_'")
    return name


def embedding_text(title: str, heading: str | None, text: str) -> str:
    """What gets embedded and BM25-indexed for a chunk: its document title and heading give context.

    A prefix the chunk already carries is not repeated (a plain-text file's first line is both its
    title and the start of its first chunk; a Markdown H1 is both title and heading): repeating it
    would double its BM25 term frequency and spend the embedder's 256-token window on a duplicate.
    """
    body = text.lstrip()
    parts: list[str] = []
    for part in (title.strip(), (heading or "").strip()):
        if part and part not in parts and not body.startswith(part):
            parts.append(part)
    parts.append(text)
    return "\n".join(p for p in parts if p)


def fuse(dense_hits: list[Hit], sparse_hits: list[Hit], settings: RetrievalSettings) -> list[tuple[Hit, float]]:
    """Merge the two candidate lists into one ranking, as ``settings.fusion`` says.

    ``zscore``: each list's scores are z-normalised per query (cosine and BM25 live on different
    scales) and summed with the weights; a chunk missing from one list gets that list's lowest z.
    Unlike rank fusion it keeps how far ahead a clear winner is. ``rrf``: sum of
    weight / (rrf_k + rank). Ties are broken by id so that every backend returns the same order.
    A public function so benchmarks can tune it on stored candidate lists without searching again.
    """
    weighted = ((settings.dense_weight, dense_hits), (settings.sparse_weight, sparse_hits))
    scores: dict[str, float] = {}
    hits: dict[str, Hit] = {}
    for _, hit_list in weighted:
        for hit in hit_list:
            hits.setdefault(hit.id, hit)
            scores.setdefault(hit.id, 0.0)
    for weight, hit_list in weighted:
        if not hit_list:
            continue
        if settings.fusion == "rrf":
            for rank, hit in enumerate(hit_list, start=1):
                scores[hit.id] += weight / (settings.rrf_k + rank)
            continue
        z = _zscores(hit_list)
        floor = min(z.values())
        for chunk_id in scores:
            scores[chunk_id] += weight * z.get(chunk_id, floor)
    order = sorted(scores, key=lambda i: (-scores[i], i))
    return [(hits[i], scores[i]) for i in order]


def _zscores(hits: list[Hit]) -> dict[str, float]:
    values = [h.score for h in hits]
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5 or 1.0
    return {h.id: (h.score - mean) / sd for h in hits}


@dataclass(frozen=True)
class Citation:
    source: str
    chunk_id: str
    score: float
    text: str
    doc_id: str
    title: str
    page: int | None
    heading: str | None
    dense_rank: int | None
    sparse_rank: int | None
    locator: dict[str, Any] | None = field(default=None, hash=False)  # as stored; None in older chunks

    @property
    def where(self) -> dict[str, Any] | None:
        """The stored locator, or a page locator from the page number of chunks stored before locators."""
        return self.locator if self.locator is not None else from_payload({payload.PAGE: self.page})

    @property
    def location(self) -> str | None:
        """The locator in words ("slide 3"), for people and prompts."""
        return describe(self.where)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "chunk_id": self.chunk_id,
            "score": round(self.score, 6),
            "text": self.text,
            "doc_id": self.doc_id,
            "title": self.title,
            "page": self.page,
            "heading": self.heading,
            "locator": self.where,
            "location": self.location,
            "ranks": {"dense": self.dense_rank, "sparse": self.sparse_rank},
        }


class Retriever:
    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        sparse: BM25Encoder,
        settings: RetrievalSettings,
        embedders: CollectionEmbedders | None = None,
    ) -> None:
        """``embedders``: the per-collection models and their guard; without it ``embedder`` serves all."""
        self._store = store
        self._embedder = embedder
        self._embedders = embedders
        self._sparse = sparse
        self._settings = settings

    def search(
        self,
        collection: str,
        question: str,
        scope: AccessScope,
        top_k: int | None = None,
        mode: str | None = None,
        *,
        embed: QueryEmbedding | None = None,
    ) -> list[Citation]:
        """``embed``: where the question's vector comes from (default: the embedder, here and now)."""
        self._require_collection(collection)
        mode = mode or self._settings.mode
        top_k = top_k or self._settings.top_k
        limit = max(self._settings.candidates, top_k)
        dense = None
        if self.uses_dense(mode):
            embedder = self._embedder_for(collection)
            dense = embed(embedder, question) if embed is not None else embedder.embed_query(question)
        sparse = self._sparse.encode_query(question) if mode in ("hybrid", "sparse") else None
        dense_hits, sparse_hits = self._store.search(collection, dense, sparse, scope, limit)
        # Equal scores in id order: engines order ties their own way, every backend must rank alike.
        dense_hits = sorted(dense_hits, key=lambda h: (-h.score, h.id))
        sparse_hits = sorted(sparse_hits, key=lambda h: (-h.score, h.id))
        if mode == "dense":
            ranked = [(h, h.score) for h in dense_hits]
        elif mode == "sparse":
            ranked = [(h, h.score) for h in sparse_hits]
        else:
            ranked = self._fuse(dense_hits, sparse_hits, collection)
        dense_rank = {h.id: i + 1 for i, h in enumerate(dense_hits)}
        sparse_rank = {h.id: i + 1 for i, h in enumerate(sparse_hits)}
        return [self._citation(h, s, dense_rank.get(h.id), sparse_rank.get(h.id)) for h, s in ranked[:top_k]]

    def uses_dense(self, mode: str | None) -> bool:
        return (mode or self._settings.mode) in ("hybrid", "dense")

    def query_embedder(self, collection: str) -> Embedder:
        """The embedder of an existing collection (its name checked first, as ``search`` does)."""
        self._require_collection(collection)
        return self._embedder_for(collection)

    def _require_collection(self, collection: str) -> None:
        validate_collection_name(collection)
        if not self._store.collection_exists(collection):
            raise UnknownCollection(collection)

    def _embedder_for(self, collection: str) -> Embedder:
        return self._embedders.check(collection) if self._embedders is not None else self._embedder

    def _fuse(self, dense_hits: list[Hit], sparse_hits: list[Hit], collection: str) -> list[tuple[Hit, float]]:
        return fuse(dense_hits, sparse_hits, self._fusion_settings(collection))

    def _fusion_settings(self, collection: str) -> RetrievalSettings:
        for pattern, weights in self._settings.collections.items():
            if fnmatchcase(collection, pattern):
                return self._settings.model_copy(update=weights.model_dump())
        return self._settings

    @staticmethod
    def _citation(hit: Hit, score: float, dense_rank: int | None, sparse_rank: int | None) -> Citation:
        p = hit.payload
        return Citation(
            source=str(p.get(payload.SOURCE, "")),
            chunk_id=hit.id,
            score=score,
            text=str(p.get(payload.TEXT, "")),
            doc_id=str(p.get(payload.DOC_ID, "")),
            title=str(p.get(payload.TITLE, "")),
            page=p.get(payload.PAGE),
            heading=p.get(payload.HEADING),
            dense_rank=dense_rank,
            sparse_rank=sparse_rank,
            locator=normalized(p.get(payload.LOCATOR)),
        )

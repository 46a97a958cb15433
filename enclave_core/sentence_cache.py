"""Sentence vectors of retrieved chunks, kept in memory between questions.

The evidence step (``enclave_core.evidence``) embeds every sentence of every retrieved chunk,
30-50 per question: that was most of what a grounded answer cost besides the LLM. A chunk's
sentences and their vectors depend only on its text and the embedding model, and the same chunks
come back for many questions, so they are kept per embedder, least recently used first out.

The key is a SHA-256 of the chunk text as stored (already pseudonymized, like the text the chunk's
own vector was computed from): a chunk re-ingested with other text gets other vectors, nothing
stale is served, and the cache holds no text at all. Bounded by the number of vectors
(``answers.sentence_vector_cache``; a 384-dimension vector takes 1.5 KB).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

__all__ = ["ChunkSentences", "SentenceVectorCache", "cache_for", "text_key"]


class ChunkSentences(NamedTuple):
    """One chunk's sentence spans (into its text) and one unit vector per span (read-only)."""

    spans: tuple[tuple[int, int], ...]
    vectors: np.ndarray


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class SentenceVectorCache:
    """A thread-safe LRU of :class:`ChunkSentences` holding at most ``max_vectors`` vectors."""

    def __init__(self, max_vectors: int) -> None:
        self.max_vectors = max_vectors
        self._entries: OrderedDict[bytes, ChunkSentences] = OrderedDict()
        self._vectors = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def vectors(self) -> int:
        return self._vectors

    def get(self, key: bytes) -> ChunkSentences | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: bytes, entry: ChunkSentences) -> None:
        size = len(entry.spans)
        if size > self.max_vectors:
            return
        vectors = np.array(entry.vectors, dtype=np.float32, copy=True)  # not a view of a whole batch
        vectors.setflags(write=False)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._vectors -= len(old.spans)
            self._entries[key] = ChunkSentences(entry.spans, vectors)
            self._vectors += size
            while self._vectors > self.max_vectors:
                _, dropped = self._entries.popitem(last=False)
                self._vectors -= len(dropped.spans)


_BY_EMBEDDER: weakref.WeakKeyDictionary[object, SentenceVectorCache] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def cache_for(embedder: object, max_vectors: int) -> SentenceVectorCache | None:
    """The cache of ``embedder`` (one per loaded model, alive as long as it is); None when
    ``max_vectors`` is 0 (caching off). A new bound applies to the existing cache."""
    if max_vectors <= 0:
        return None
    with _REGISTRY_LOCK:
        try:
            cache = _BY_EMBEDDER.get(embedder)
        except TypeError:  # an unhashable embedder cannot be a key: no cache
            return None
        if cache is None:
            cache = _BY_EMBEDDER[embedder] = SentenceVectorCache(max_vectors)
        cache.max_vectors = max_vectors
        return cache

"""The question's dense vector on the read path: batched across concurrent requests, and started early.

Batched: the query embeddings of concurrent searches run as one ONNX call (``MicroBatcher``, no
waiting window). Early: the embedding is user-independent and ONNX Runtime releases the GIL, so when
the gateway is idle it starts on the question as typed while the question's PII detection runs.

Privacy: the raw question's vector is only a candidate. ``Retriever.search`` asks for the vector of
the exact text it searches (the pseudonymised question); the early vector is handed over only when
that text is the raw question unchanged, by the same embedder. Otherwise it is dropped unread: never
stored, logged, cached, or used for retrieval (tests/unit/test_query_vectors.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from enclave_core.batching import MicroBatcher
from enclave_core.embedding.base import Embedder, Vectors
from enclave_core.retrieval import Retriever

__all__ = ["EarlyVector", "QueryVectors"]

log = logging.getLogger(__name__)


def _batch_fn(embedder: Embedder) -> MicroBatcher[str, Vectors]:
    """One batcher per embedder. Only float32 backends whose query vector is the document vector of
    the same text (no "query: " prefix) are run as one ``embed_documents`` call; others embed item by
    item. Not int8: its activations are quantised with one scale for the whole input, so a question's
    vector would depend on the other users' questions batched with it."""
    from enclave_core.embedding.onnx_runtime import OnnxEmbedder
    from enclave_core.embedding.registry import FLOAT32, variant_of
    from enclave_core.embedding.sentence_transformers import SentenceTransformerEmbedder

    if type(embedder) in (OnnxEmbedder, SentenceTransformerEmbedder) and variant_of(embedder) == FLOAT32:

        def run(texts: list[str]) -> Sequence[Vectors]:
            return [row.copy() for row in embedder.embed_documents(texts)]

    else:

        def run(texts: list[str]) -> Sequence[Vectors]:
            return [embedder.embed_query(t) for t in texts]

    return MicroBatcher(run)


class QueryVectors:
    """Query embeddings for the service's searches (``Retriever.search(..., embed=...)``)."""

    def __init__(self, retriever: Retriever, *, early: bool = False) -> None:
        self._retriever = retriever
        self._lock = threading.Lock()
        self._batchers: dict[int, tuple[Embedder, MicroBatcher[str, Vectors]]] = {}
        self._busy = 0  # embeddings running or queued
        self._pool: ThreadPoolExecutor | None = None
        if early:
            self.enable_early()

    def enable_early(self) -> None:
        """Start embeddings early from now on. For a long-lived process whose models are loaded (the
        gateway after its warm-up): a one-question CLI process imports Presidio lighter while it has a
        single thread (enclave_core/redaction/light_import.py) and would load both models at once."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="query-vector")

    def embed(self, embedder: Embedder, text: str) -> Vectors:
        with self._lock:
            self._busy += 1
        try:
            return self._batcher(embedder).submit(text)
        finally:
            self._release()

    def _batcher(self, embedder: Embedder) -> MicroBatcher[str, Vectors]:
        with self._lock:
            entry = self._batchers.get(id(embedder))
            if entry is None or entry[0] is not embedder:
                entry = self._batchers[id(embedder)] = (embedder, _batch_fn(embedder))
            return entry[1]

    def idle(self) -> bool:
        """No query embedding running or queued: the cores have room for an early start."""
        with self._lock:
            return self._busy == 0

    def start(self, collection: str, question: str, mode: str | None) -> EarlyVector:
        """Begin embedding ``question`` as typed when idle; the result is for ``Retriever.search``."""
        future: Future[tuple[Embedder, Vectors]] | None = None
        if self._pool is not None and self._retriever.uses_dense(mode) and self._claim_idle():
            # Counted busy from now, not from when the pool thread starts it: a burst of requests at an
            # idle gateway would otherwise all see idle() and queue one by one on the single thread.

            def work() -> tuple[Embedder, Vectors]:
                embedder = self._retriever.query_embedder(collection)
                return embedder, self._batcher(embedder).submit(question)

            try:
                future = self._pool.submit(work)
            except RuntimeError:  # shut down: embed in the request's thread
                self._release()
                future = None
            else:  # done, failed or cancelled (the pool shut down, or the question was pseudonymised)
                future.add_done_callback(lambda _f: self._release())
        return EarlyVector(self, question, future)

    def _claim_idle(self) -> bool:
        with self._lock:
            if self._busy:
                return False
            self._busy += 1
            return True

    def _release(self) -> None:
        with self._lock:
            self._busy -= 1

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


class EarlyVector:
    """``(embedder, text) -> vector`` for one search: the early vector if ``text`` is the question it
    was started on and ``embedder`` the one that made it, else a fresh (batched) embedding of ``text``."""

    def __init__(self, queries: QueryVectors, question: str, future: Future[tuple[Embedder, Vectors]] | None) -> None:
        self._queries = queries
        self._question = question
        self._future = future

    @property
    def started(self) -> bool:
        return self._future is not None

    def __call__(self, embedder: Embedder, text: str) -> Vectors:
        future, self._future = self._future, None
        if future is not None:
            if text == self._question:
                try:
                    made_by, vector = future.result()
                except Exception:  # a real failure repeats below, in the request's own thread
                    log.debug("early query embedding failed; embedding again", exc_info=True)
                else:
                    if made_by is embedder:
                        return vector
            else:
                future.cancel()  # the question was pseudonymised: the raw text's vector is never read
        return self._queries.embed(embedder, text)

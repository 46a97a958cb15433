"""The question's vector on the read path (enclave_core.query_vectors): started early on the question as
typed, used only if pseudonymisation left it unchanged; a question with a name is retrieved with the
pseudonymised text's vector, never the raw one. Batched query vectors equal single ones."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from enclave_core.embedding.base import Vectors
from enclave_core.embedding.sparse import BM25Encoder, SparseVector
from enclave_core.identity import Principal
from enclave_core.pseudonymize import CollectionPii, PiiPolicy, Pseudonymizer
from enclave_core.query_vectors import QueryVectors
from enclave_core.redaction.redactor import Detection
from enclave_core.retrieval import Retriever
from enclave_core.service import RagService
from enclave_core.settings import RetrievalSettings
from enclave_core.vault import Vault
from enclave_core.vectorstore.base import AccessScope, Hit

NAME = "Ann Smith"
RAW = f"What did {NAME} decide about parental leave?"
PLAIN = "What is the parental leave policy?"
TIMEOUT = 10.0


def vector_of(text: str) -> Vectors:
    """A distinct unit vector per text."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    v = np.random.default_rng(seed).normal(size=8).astype(np.float32)
    return np.asarray(v / np.linalg.norm(v), dtype=np.float32)


class RecordingEmbedder:
    """Records every text it embeds (and signals the first)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.embedded = threading.Event()
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return 8

    @property
    def model_id(self) -> str:
        return "recording"

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return np.stack([self.embed_query(t) for t in texts])

    def embed_query(self, text: str) -> Vectors:
        with self._lock:
            self.texts.append(text)
        self.embedded.set()
        return vector_of(text)


class RecordingStore:
    """One readable chunk; keeps the dense vector of every search."""

    def __init__(self) -> None:
        self.dense_queries: list[Vectors | None] = []

    def collection_exists(self, name: str) -> bool:
        return name == "hr"

    def count(self, name: str, scope: AccessScope | None = None) -> int:
        return 1

    def search(
        self, name: str, dense: Vectors | None, sparse: SparseVector | None, scope: AccessScope, limit: int
    ) -> tuple[list[Hit], list[Hit]]:
        self.dense_queries.append(None if dense is None else dense.copy())
        return [Hit("c1", 0.9, {"doc_id": "d1", "text": "Leave is 16 weeks."})], []


class NameDetector:
    """Detects NAME; waits (bounded) until the early embedding has begun, so the race is decided:
    the raw question's vector exists by the time pseudonymisation changes the text."""

    def __init__(self, embedder: RecordingEmbedder) -> None:
        self._embedder = embedder
        self.policy = self

    def rule(self, entity: str) -> Any:
        return type("Rule", (), {"placeholder": f"<{entity}>"})()

    def detect_many(self, texts: Sequence[str]) -> list[list[Detection]]:
        assert self._embedder.embedded.wait(TIMEOUT)
        out = []
        for t in texts:
            start = t.find(NAME)
            out.append([Detection(start, start + len(NAME), "PERSON", 0.9)] if start >= 0 else [])
        return out


class Access:
    version = "test"

    def allows(self, principal: Principal, action: str, collection: str) -> bool:
        return True


@dataclass
class FakeCore:
    store: RecordingStore
    retriever: Retriever
    pii: Pseudonymizer
    query_vectors: QueryVectors
    access: Access


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[RagService, RecordingEmbedder, RecordingStore, QueryVectors]]:
    embedder, store = RecordingEmbedder(), RecordingStore()
    vault = Vault(tmp_path / "vault", bytes(range(32)))
    vault.assign("hr", [("PERSON", NAME, "d1")])  # a known name: <PERSON_1>, in a readable document
    pii = Pseudonymizer(NameDetector(embedder), vault, PiiPolicy(CollectionPii(), {}))  # type: ignore[arg-type]
    retriever = Retriever(store, embedder, BM25Encoder(), RetrievalSettings())  # type: ignore[arg-type]
    queries = QueryVectors(retriever, early=True)
    core = FakeCore(store, retriever, pii, queries, Access())
    yield RagService(core), embedder, store, queries  # type: ignore[arg-type]
    queries.close()


def test_a_question_with_a_name_is_retrieved_with_the_pseudonymised_texts_vector(
    setup: tuple[RagService, RecordingEmbedder, RecordingStore, QueryVectors],
) -> None:
    service, embedder, store, _ = setup
    found = service._retrieve(Principal("u", frozenset({"staff"})), "hr", RAW, None, "dense")
    safe = RAW.replace(NAME, "<PERSON_1>")
    assert found.question == safe
    assert RAW in embedder.texts  # the early embedding did run on the raw question ...
    assert embedder.texts.count(safe) == 1
    (used,) = store.dense_queries
    assert used is not None
    assert np.array_equal(used, vector_of(safe))  # ... but retrieval got the pseudonymised text's vector
    assert not np.allclose(used, vector_of(RAW))


def test_an_unchanged_question_reuses_the_early_vector(
    setup: tuple[RagService, RecordingEmbedder, RecordingStore, QueryVectors],
) -> None:
    service, embedder, store, _ = setup
    found = service._retrieve(Principal("u", frozenset({"staff"})), "hr", PLAIN, None, "hybrid")
    assert found.question == PLAIN
    assert embedder.texts == [PLAIN]  # embedded once, early
    assert np.array_equal(store.dense_queries[0], vector_of(PLAIN))  # type: ignore[arg-type]


def test_sparse_mode_embeds_nothing(setup: tuple[RagService, RecordingEmbedder, RecordingStore, QueryVectors]) -> None:
    service, embedder, store, _ = setup
    embedder.embedded.set()  # nothing to wait for
    service._retrieve(Principal("u", frozenset({"staff"})), "hr", PLAIN, None, "sparse")
    assert embedder.texts == [] and store.dense_queries == [None]


def test_the_early_vector_is_handed_only_for_its_own_text_and_embedder(
    setup: tuple[RagService, RecordingEmbedder, RecordingStore, QueryVectors],
) -> None:
    _, embedder, _, queries = setup
    early = queries.start("hr", RAW, "dense")
    assert early.started
    other = RecordingEmbedder()
    got = early(other, RAW)  # same text, another embedder (another collection's model): not reused
    assert np.array_equal(got, vector_of(RAW)) and other.texts == [RAW]
    late = queries.start("hr", RAW, "dense")
    assert np.array_equal(late(embedder, PLAIN), vector_of(PLAIN))


def test_batched_query_vectors_equal_single_ones() -> None:
    """The real ONNX embedder: a batch of questions of different lengths gives each its own vector."""
    from enclave_core.embedding import resolve_model_path
    from enclave_core.embedding.onnx_runtime import OnnxEmbedder, default_cache_dir

    onnx = OnnxEmbedder(resolve_model_path("packaged:all-MiniLM-L6-v2"), cache_dir=default_cache_dir())
    questions = [PLAIN, "Short?", "How many weeks of paid leave do new parents get after a birth or an adoption?"]
    single = [onnx.embed_query(q) for q in questions]
    retriever = Retriever(RecordingStore(), onnx, BM25Encoder(), RetrievalSettings())  # type: ignore[arg-type]
    queries = QueryVectors(retriever, early=False)
    batcher = queries._batcher(onnx)
    got = batcher._run(questions)  # the batch function itself: one call for all three
    for a, b in zip(got, single, strict=True):
        assert np.allclose(a, b, atol=1e-5)
    threads_out: dict[int, Vectors] = {}

    def ask(i: int) -> None:
        threads_out[i] = queries.embed(onnx, questions[i % 3])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    for i, v in threads_out.items():
        assert np.allclose(v, single[i % 3], atol=1e-5)
    assert len(threads_out) == 9


def test_an_int8_embedder_gives_each_question_its_lone_vector_whatever_is_batched_with_it() -> None:
    """int8 quantises activations with one scale for the whole input: batched, another user's
    question would move this one's vector (cosine 0.993 here). So int8 questions are embedded one by
    one (attack: a question sent at the same moment must not change another user's vector)."""
    from enclave_core.embedding import resolve_model_path
    from enclave_core.embedding.onnx_runtime import OnnxEmbedder, default_cache_dir

    int8 = OnnxEmbedder(resolve_model_path("packaged:all-MiniLM-L6-v2"), cache_dir=default_cache_dir(), quantize=True)
    assert int8.variant == "onnx-int8"
    # two users' questions of about the same length, so they would share one padded ONNX run
    questions = ["How many weeks of paid leave do new parents get?", "What is the travel budget for the sales team?"]
    single = [int8.embed_query(q) for q in questions]
    retriever = Retriever(RecordingStore(), int8, BM25Encoder(), RetrievalSettings())  # type: ignore[arg-type]
    got = QueryVectors(retriever, early=False)._batcher(int8)._run(questions)
    for a, b in zip(got, single, strict=True):
        assert np.array_equal(a, b)


def test_an_early_start_counts_busy_from_submission_so_a_burst_does_not_queue_on_one_thread(
    setup: tuple[RagService, RecordingEmbedder, RecordingStore, QueryVectors],
) -> None:
    """Review finding: busy was counted only once the pool thread ran the embedding, so requests
    arriving together at an idle gateway all started early and convoyed on the single thread."""
    _, embedder, _, queries = setup
    assert queries._pool is not None
    gate = threading.Event()
    queries._pool.submit(gate.wait, TIMEOUT)  # the pool thread is busy: the next start only queues
    first = queries.start("hr", RAW, "dense")
    assert first.started and not queries.idle()
    second = queries.start("hr", PLAIN, "dense")
    assert not second.started  # embedded (batched) in its own request instead
    assert np.array_equal(first(embedder, PLAIN), vector_of(PLAIN))  # pseudonymised: the queued one is cancelled
    assert queries.idle()  # a cancelled early start releases its count
    third = queries.start("hr", RAW, "dense")
    assert third.started
    gate.set()
    assert np.array_equal(third(embedder, RAW), vector_of(RAW))
    deadline = time.monotonic() + TIMEOUT
    while not queries.idle() and time.monotonic() < deadline:  # the done callback runs just after the result
        time.sleep(0.005)
    assert queries.idle()
    assert embedder.texts.count(RAW) == 1  # the early one, reused

"""Tests for enclave_core.retrieval: z-score and weighted RRF fusion, modes, top_k, errors, citations.

The vector store and the embedder are small fakes, so every expected score is computed by hand:
RRF score = sum over retrievers of weight / (rrf_k + rank), ranks 1-based; z-score fusion = sum of
weight * (score - mean) / sd per list, a chunk absent from a list taking that list's lowest z.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from enclave_core.embedding.sparse import BM25Encoder, SparseVector
from enclave_core.errors import InvalidName, UnknownCollection
from enclave_core.retrieval import Citation, Retriever, embedding_text, validate_collection_name
from enclave_core.settings import RetrievalSettings
from enclave_core.vectorstore import payload
from enclave_core.vectorstore.base import AccessScope, Hit

SCOPE = AccessScope(frozenset({"hr"}))


@dataclass
class FakeStore:
    dense: list[Hit] = field(default_factory=list)
    sparse: list[Hit] = field(default_factory=list)
    collections: set[str] = field(default_factory=lambda: {"docs"})
    calls: list[dict[str, Any]] = field(default_factory=list)

    def collection_exists(self, name: str) -> bool:
        return name in self.collections

    def search(
        self, name: str, dense: Any, sparse: SparseVector | None, scope: AccessScope, limit: int
    ) -> tuple[list[Hit], list[Hit]]:
        self.calls.append({"name": name, "dense": dense, "sparse": sparse, "scope": scope, "limit": limit})
        # Like the real store: a retriever that was not asked returns nothing.
        return (
            self.dense[:limit] if dense is not None else [],
            self.sparse[:limit] if sparse is not None else [],
        )


class FakeEmbedder:
    dimension = 4
    model_id = "fake"

    def __init__(self) -> None:
        self.queries: list[str] = []

    def embed_query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        return np.array([0.5, 0.5, 0.5, 0.5], dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - unused
        raise AssertionError("not used by retrieval")


def hits(*ids: str, score: float = 0.9) -> list[Hit]:
    return [Hit(i, score - n * 0.1, {payload.TEXT: f"text of {i}"}) for n, i in enumerate(ids)]


def make(
    dense: list[Hit] | None = None, sparse: list[Hit] | None = None, **retrieval: Any
) -> tuple[Retriever, FakeStore, FakeEmbedder]:
    store = FakeStore(dense or [], sparse or [])
    embedder = FakeEmbedder()
    retriever = Retriever(store, embedder, BM25Encoder(), RetrievalSettings(**retrieval))  # type: ignore[arg-type]
    return retriever, store, embedder


# -- fusion -----------------------------------------------------------------------------------------

# (dense ids, sparse ids, settings, expected [(id, score, dense_rank, sparse_rank)] in order)
FUSION_CASES: list[tuple[list[str], list[str], dict[str, Any], list[tuple[str, float, int | None, int | None]]]] = [
    (
        ["a", "b", "c"],
        ["c", "a"],
        {},
        [
            ("a", 1 / 61 + 1 / 62, 1, 2),  # 0.0325225
            ("c", 1 / 63 + 1 / 61, 3, 1),  # 0.0322665
            ("b", 1 / 62, 2, None),  # 0.0161290
        ],
    ),
    (
        # Equal scores: ties broken by id, whichever retriever found the hit.
        ["b"],
        ["a"],
        {},
        [("a", 1 / 61, None, 1), ("b", 1 / 61, 1, None)],
    ),
    (
        ["y", "x"],
        ["x", "y"],
        {},
        [("x", 1 / 62 + 1 / 61, 2, 1), ("y", 1 / 61 + 1 / 62, 1, 2)],
    ),
    (
        ["a", "b"],
        ["b", "a"],
        {"dense_weight": 2.0},
        [("a", 2 / 61 + 1 / 62, 1, 2), ("b", 2 / 62 + 1 / 61, 2, 1)],  # 0.048916 > 0.048651
    ),
    (
        ["a", "b"],
        ["b", "a"],
        {"sparse_weight": 2.0},
        [("b", 1 / 62 + 2 / 61, 2, 1), ("a", 1 / 61 + 2 / 62, 1, 2)],
    ),
    (
        # Small k: agreement between retrievers matters more than the top dense rank.
        ["a", "b"],
        ["b"],
        {"rrf_k": 1},
        [("b", 1 / 3 + 1 / 2, 2, 1), ("a", 1 / 2, 1, None)],
    ),
    (
        # Large k: ranks barely matter, so being found twice dominates.
        ["a", "b", "c", "d"],
        ["d"],
        {"rrf_k": 1000},
        [
            ("d", 1 / 1004 + 1 / 1001, 4, 1),
            ("a", 1 / 1001, 1, None),
            ("b", 1 / 1002, 2, None),
            ("c", 1 / 1003, 3, None),
        ],
    ),
    (
        # A zero weight keeps the retriever's hits but adds nothing to their score.
        ["a", "b"],
        ["c"],
        {"sparse_weight": 0.0},
        [("a", 1 / 61, 1, None), ("b", 1 / 62, 2, None), ("c", 0.0, None, 1)],
    ),
    ([], [], {}, []),
    (["a", "b"], [], {}, [("a", 1 / 61, 1, None), ("b", 1 / 62, 2, None)]),
    ([], ["b", "a"], {}, [("b", 1 / 61, None, 1), ("a", 1 / 62, None, 2)]),
]


@pytest.mark.parametrize(("dense", "sparse", "cfg", "expected"), FUSION_CASES)
def test_rrf_fusion(
    dense: list[str],
    sparse: list[str],
    cfg: dict[str, Any],
    expected: list[tuple[str, float, int | None, int | None]],
) -> None:
    cfg = {"fusion": "rrf", "dense_weight": 1.0, "sparse_weight": 1.0, **cfg}
    retriever, _, _ = make(hits(*dense), hits(*sparse), top_k=10, **cfg)
    got = retriever.search("docs", "travel policy", SCOPE)
    assert [(c.chunk_id, c.dense_rank, c.sparse_rank) for c in got] == [(i, d, s) for i, _, d, s in expected]
    assert [c.score for c in got] == pytest.approx([s for _, s, _, _ in expected], abs=1e-12)


# hits() scores fall by 0.1 per rank: three hits have z = +-sqrt(1.5) and 0, two hits +-1, one hit 0.
Z3 = 1.5**0.5
ZSCORE_CASES: list[tuple[list[str], list[str], dict[str, Any], list[tuple[str, float]]]] = [
    (
        # Shipped weights (0.4 dense, 0.6 sparse): c, second in both lists' favour, wins.
        ["a", "b", "c"],
        ["c", "a"],
        {},
        [("c", 0.4 * -Z3 + 0.6 * 1), ("a", 0.4 * Z3 + 0.6 * -1), ("b", 0.4 * 0 + 0.6 * -1)],
    ),
    (
        # Equal weights: dense's clear winner a now leads; b, absent from sparse, takes its floor (-1).
        ["a", "b", "c"],
        ["c", "a"],
        {"dense_weight": 1.0, "sparse_weight": 1.0},
        [("a", Z3 - 1), ("c", -Z3 + 1), ("b", 0 - 1)],
    ),
    # A list of one has no spread: z = 0, no division by zero.
    (["a"], ["b"], {}, [("a", 0.0), ("b", 0.0)]),
    # One retriever empty: the other's order, scaled by its weight.
    (["a", "b"], [], {}, [("a", 0.4), ("b", -0.4)]),
    ([], [], {}, []),
]


@pytest.mark.parametrize(("dense", "sparse", "cfg", "expected"), ZSCORE_CASES)
def test_zscore_fusion(
    dense: list[str], sparse: list[str], cfg: dict[str, Any], expected: list[tuple[str, float]]
) -> None:
    retriever, _, _ = make(hits(*dense), hits(*sparse), top_k=10, **cfg)
    got = retriever.search("docs", "travel policy", SCOPE)
    assert [c.chunk_id for c in got] == [i for i, _ in expected]
    assert [c.score for c in got] == pytest.approx([s for _, s in expected], abs=1e-9)


def test_zscore_keeps_margins_that_rank_fusion_drops() -> None:
    # Dense is sure about z (0.9 vs 0.2, 0.1); sparse barely prefers y (5.1 vs 5.0). RRF sees one
    # first and one second place each, a tie that the id breaks (y); z-score fusion keeps dense's margin.
    dense = [Hit("z", 0.9, {}), Hit("y", 0.2, {}), Hit("x", 0.1, {})]
    sparse = [Hit("y", 5.1, {}), Hit("z", 5.0, {}), Hit("x", 1.0, {})]
    rrf, _, _ = make(dense, sparse, top_k=3, fusion="rrf", dense_weight=1.0, sparse_weight=1.0)
    z, _, _ = make(dense, sparse, top_k=3, fusion="zscore", dense_weight=1.0, sparse_weight=1.0)
    assert [c.chunk_id for c in rrf.search("docs", "q", SCOPE)] == ["y", "z", "x"]
    assert [c.chunk_id for c in z.search("docs", "q", SCOPE)] == ["z", "y", "x"]


def test_fused_hit_keeps_the_dense_payload() -> None:
    dense = [Hit("a", 0.9, {payload.TEXT: "dense copy"})]
    sparse = [Hit("a", 7.0, {payload.TEXT: "sparse copy"})]
    retriever, _, _ = make(dense, sparse)
    (only,) = retriever.search("docs", "q", SCOPE)
    assert only.text == "dense copy"
    assert (only.dense_rank, only.sparse_rank) == (1, 1)


# -- modes, top_k, limits ------------------------------------------------------------------------------


def test_hybrid_mode_queries_both_retrievers_with_the_scope() -> None:
    retriever, store, embedder = make(hits("a"), hits("b"), candidates=50)
    retriever.search("docs", "Vacation policies", SCOPE)
    assert embedder.queries == ["Vacation policies"]
    (call,) = store.calls
    assert call["name"] == "docs"
    assert call["scope"] is SCOPE
    assert call["limit"] == 50
    assert call["dense"] is not None
    assert call["sparse"] == BM25Encoder().encode_query("Vacation policies")


def test_dense_mode_uses_raw_dense_scores_and_order() -> None:
    retriever, store, embedder = make(hits("b", "a", "c"), hits("a"), mode="dense", top_k=10)
    got = retriever.search("docs", "q", SCOPE)
    assert store.calls[0]["sparse"] is None
    assert embedder.queries == ["q"]
    assert [(c.chunk_id, c.dense_rank, c.sparse_rank) for c in got] == [
        ("b", 1, None),
        ("a", 2, None),
        ("c", 3, None),
    ]
    assert [c.score for c in got] == pytest.approx([0.9, 0.8, 0.7])


def test_sparse_mode_uses_raw_sparse_scores_and_never_embeds() -> None:
    retriever, store, embedder = make(hits("a"), hits("c", "b", score=12.0), top_k=10)
    got = retriever.search("docs", "travel expenses", SCOPE, mode="sparse")
    assert embedder.queries == []
    assert store.calls[0]["dense"] is None
    assert [(c.chunk_id, c.dense_rank, c.sparse_rank) for c in got] == [("c", None, 1), ("b", None, 2)]
    assert [c.score for c in got] == pytest.approx([12.0, 11.9])


def test_mode_argument_overrides_the_setting() -> None:
    retriever, _, embedder = make(hits("a"), hits("b"), mode="sparse")
    got = retriever.search("docs", "q", SCOPE, mode="dense")
    assert [c.chunk_id for c in got] == ["a"]
    assert embedder.queries == ["q"]


@pytest.mark.parametrize(
    ("setting_top_k", "arg_top_k", "candidates", "expected_n", "expected_limit"),
    [
        (3, None, 50, 3, 50),
        (3, 5, 50, 5, 50),
        (3, 1, 50, 1, 50),
        (2, 30, 10, 26, 30),  # top_k above candidates raises the per-retriever limit
        (100, None, 1, 26, 100),
    ],
)
def test_top_k_and_candidate_limit(
    setting_top_k: int, arg_top_k: int | None, candidates: int, expected_n: int, expected_limit: int
) -> None:
    letters = [chr(ord("a") + i) for i in range(26)]
    retriever, store, _ = make(hits(*letters), hits(*reversed(letters)), top_k=setting_top_k, candidates=candidates)
    got = retriever.search("docs", "q", SCOPE, top_k=arg_top_k)
    assert store.calls[0]["limit"] == expected_limit
    assert len(got) == expected_n


def test_top_k_keeps_the_best_fused_hits() -> None:
    retriever, _, _ = make(hits("a", "b", "c"), hits("c", "a"), top_k=2)
    assert [c.chunk_id for c in retriever.search("docs", "q", SCOPE)] == ["c", "a"]  # see ZSCORE_CASES[0]


# -- errors -----------------------------------------------------------------------------------------


def test_unknown_collection() -> None:
    retriever, store, embedder = make(hits("a"))
    with pytest.raises(UnknownCollection) as info:
        retriever.search("missing", "q", SCOPE)
    assert info.value.name == "missing"
    assert store.calls == [] and embedder.queries == []


@pytest.mark.parametrize(
    "name",
    ["", "Docs", "my docs", "-docs", "_docs", "a" * 64, "a/b", "../etc", "dócs", "a.b", "docs;drop"],
)
def test_invalid_collection_names(name: str) -> None:
    with pytest.raises(InvalidName):
        validate_collection_name(name)
    retriever, store, _ = make()
    with pytest.raises(InvalidName):
        retriever.search(name, "q", SCOPE)
    assert store.calls == []


@pytest.mark.parametrize("name", ["docs\n", "a" * 63 + "\n"])
def test_collection_name_with_a_trailing_newline_is_invalid(name: str) -> None:
    with pytest.raises(InvalidName):
        validate_collection_name(name)


@pytest.mark.parametrize("name", ["a", "0", "docs", "hr-2024_q1", "a" * 63, "9-_"])
def test_valid_collection_names(name: str) -> None:
    assert validate_collection_name(name) == name


# -- citations -------------------------------------------------------------------------------------


def test_citation_fields_come_from_the_payload() -> None:
    p = {
        payload.SOURCE: "hr/leave.pdf",
        payload.TEXT: "Employees get 25 days.",
        payload.DOC_ID: "d-1",
        payload.TITLE: "Leave policy",
        payload.PAGE: 3,
        payload.HEADING: "Annual leave",
    }
    retriever, _, _ = make([Hit("c1", 0.8, p)], [], fusion="rrf", dense_weight=1.0)
    (c,) = retriever.search("docs", "q", SCOPE)
    assert c == Citation(
        source="hr/leave.pdf",
        chunk_id="c1",
        score=1 / 61,
        text="Employees get 25 days.",
        doc_id="d-1",
        title="Leave policy",
        page=3,
        heading="Annual leave",
        dense_rank=1,
        sparse_rank=None,
    )
    assert c.to_json() == {
        "source": "hr/leave.pdf",
        "chunk_id": "c1",
        "score": 0.016393,
        "text": "Employees get 25 days.",
        "doc_id": "d-1",
        "title": "Leave policy",
        "page": 3,
        "heading": "Annual leave",
        "locator": {"kind": "page", "number": 3},  # a chunk stored before locators: its page
        "location": "page 3",
        "ranks": {"dense": 1, "sparse": None},
    }


def test_a_stored_locator_reaches_the_citation() -> None:
    p = {payload.SOURCE: "deck.pptx", payload.PAGE: 4, payload.LOCATOR: {"kind": "slide", "number": 4, "junk": 1}}
    retriever, _, _ = make([Hit("c1", 0.8, p)], [])
    (c,) = retriever.search("docs", "q", SCOPE)
    assert c.to_json()["locator"] == {"kind": "slide", "number": 4}
    assert c.to_json()["location"] == "slide 4"


def test_citation_with_an_empty_payload() -> None:
    retriever, _, _ = make([Hit("c1", 0.8, {})], [])
    (c,) = retriever.search("docs", "q", SCOPE)
    assert (c.source, c.text, c.doc_id, c.title, c.page, c.heading) == ("", "", "", "", None, None)


@pytest.mark.parametrize(
    ("title", "heading", "text", "expected"),
    [
        ("Leave policy", "Annual leave", "25 days.", "Leave policy\nAnnual leave\n25 days."),
        ("  Leave policy ", None, "25 days.", "Leave policy\n25 days."),
        ("", "  H  ", "body", "H\nbody"),
        ("", None, "body", "body"),
        ("T", "", "body", "T\nbody"),
        # A prefix the chunk already carries is not repeated (plain-text title line, Markdown H1).
        ("Title", "Title", "body", "Title\nbody"),
        ("Title", None, "Title\n\nbody", "Title\n\nbody"),
        ("Title", "Methods", "Title\n\nbody", "Methods\nTitle\n\nbody"),
        ("Doc", "Doc > Part", "body", "Doc\nDoc > Part\nbody"),
    ],
)
def test_embedding_text(title: str, heading: str | None, text: str, expected: str) -> None:
    assert embedding_text(title, heading, text) == expected

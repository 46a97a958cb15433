"""Every embedded backend gives the same answers: QdrantStore(":memory:") vs EdgeStore (qdrant-edge).

The same operations run on both stores; results must agree exactly in ids and order, and in scores
within 1e-4 (float32 arithmetic differs between the Python and Rust engines). The corpus gives every
chunk a distinct length, so BM25 scores do not tie: qdrant-client's local mode orders exact ties
its own way (EdgeStore and the Retriever order them by id).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from enclave_core.embedding.sparse import BM25Encoder, SparseVector
from enclave_core.vectorstore import payload
from enclave_core.vectorstore.base import AccessScope, Hit, PointRecord, VectorStore
from enclave_core.vectorstore.edge import EdgeStore
from enclave_core.vectorstore.qdrant import QdrantStore

DIM = 8
ALL = AccessScope.unrestricted()
WORDS = [
    "acl",
    "audit",
    "leave",
    "policy",
    "salary",
    "vacation",
    "pension",
    "payroll",
    "holiday",
    "travel",
    "expense",
    "budget",
]


def pid(i: int) -> str:
    return str(uuid.UUID(int=i + 1))


def corpus(n: int = 60, seed: int = 7) -> list[PointRecord]:
    """Random dense vectors (distinct scores) and BM25 vectors of random word bags; three ACLs."""
    rng = np.random.default_rng(seed)
    enc = BM25Encoder()
    points = []
    for i in range(n):
        words = list(rng.choice(WORDS, size=int(rng.integers(3, 12))))
        text = " ".join(words + [f"filler{i}"] * (i + 1))  # distinct lengths: no BM25 ties
        acl = [["hr"], ["eng"], ["hr", "finance"]][i % 3]
        points.append(
            PointRecord(
                id=pid(i),
                dense=rng.normal(size=DIM).astype(np.float32),
                sparse=enc.encode_document(text),
                payload={
                    payload.DOC_ID: f"doc{i // 4}",
                    payload.ACL: acl,
                    payload.TEXT: text,
                    payload.CHUNK_INDEX: i % 4,
                },
            )
        )
    return points


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[list[VectorStore]]:
    client = QdrantClient(":memory:")
    local = QdrantStore(client)
    edge = EdgeStore(tmp_path / "edge")
    yield [local, edge]
    local.close()
    edge.close()


def ids_scores(hits: list[Hit]) -> tuple[list[str], list[float]]:
    return [h.id for h in hits], [h.score for h in hits]


def assert_same_hits(a: list[Hit], b: list[Hit]) -> None:
    ids_a, scores_a = ids_scores(a)
    ids_b, scores_b = ids_scores(b)
    assert ids_a == ids_b
    assert np.allclose(scores_a, scores_b, atol=1e-4)
    assert [h.payload for h in a] == [h.payload for h in b]


def apply_all(stores: list[VectorStore], points: list[PointRecord]) -> None:
    for s in stores:
        s.ensure_collection("docs", DIM)
        s.ensure_collection("docs", DIM)  # idempotent
        s.upsert("docs", points)


def test_collections_and_count(stores: list[VectorStore]) -> None:
    points = corpus()
    apply_all(stores, points)
    assert [s.collection_exists("docs") for s in stores] == [True, True]
    assert [s.collection_exists("nope") for s in stores] == [False, False]
    assert [s.list_collections() for s in stores] == [["docs"], ["docs"]]
    assert [s.count("docs") for s in stores] == [len(points)] * 2
    for s in stores:
        s.ensure_collection("other", DIM)
        s.delete_collection("other")
    assert [s.list_collections() for s in stores] == [["docs"], ["docs"]]


@pytest.mark.parametrize(
    "scope",
    [
        ALL,
        AccessScope(frozenset({"hr"})),
        AccessScope(frozenset({"eng", "finance"})),
        AccessScope(frozenset()),
        AccessScope(frozenset({"hr"}), doc_ids=frozenset({"doc1", "doc4"})),
    ],
    ids=["admin", "hr", "eng+finance", "no-groups", "hr+docs"],
)
def test_filtered_dense_and_sparse_search(stores: list[VectorStore], scope: AccessScope) -> None:
    apply_all(stores, corpus())
    rng = np.random.default_rng(1)
    enc = BM25Encoder()
    for _ in range(5):
        dense = rng.normal(size=DIM).astype(np.float32)
        sparse = enc.encode_query(" ".join(rng.choice(WORDS, size=3)))
        (d0, s0), (d1, s1) = (s.search("docs", dense, sparse, scope, 10) for s in stores)
        assert_same_hits(d0, d1)
        assert_same_hits(s0, s1)
        if scope.groups:
            assert all(set(h.payload[payload.ACL]) & scope.groups for h in d0 + s0)


def test_single_retriever_and_empty_sparse_query(stores: list[VectorStore]) -> None:
    apply_all(stores, corpus())
    dense = np.ones(DIM, dtype=np.float32)
    results = [s.search("docs", dense, None, ALL, 5) for s in stores]
    assert_same_hits(results[0][0], results[1][0])
    assert results[0][1] == results[1][1] == []
    results = [s.search("docs", None, SparseVector([], []), ALL, 5) for s in stores]
    assert results[0] == results[1] == ([], [])


def test_sparse_idf_after_delete_and_compact(stores: list[VectorStore]) -> None:
    """Known difference: the Rust engine (edge, and the Qdrant server alike) keeps deleted points in
    its IDF statistics until the segment is vacuumed; qdrant-client's local mode drops them at once.
    EdgeStore vacuums on compact() (which erasure calls), after which both agree again."""
    points = corpus()
    apply_all(stores, points)
    query = BM25Encoder().encode_query("salary pension audit")
    for s in stores:
        s.delete_points("docs", [p.id for p in points[:20]])
    assert [s.count("docs") for s in stores] == [len(points) - 20] * 2
    for s in stores:
        s.compact("docs")
    (_, s0), (_, s1) = (s.search("docs", None, query, ALL, 15) for s in stores)
    assert_same_hits(s0, s1)


def test_upsert_overwrites_and_document_operations(stores: list[VectorStore]) -> None:
    points = corpus()
    apply_all(stores, points)
    changed = [
        PointRecord(p.id, p.dense[::-1].copy(), p.sparse, {**p.payload, payload.TEXT: "changed"}) for p in points[:4]
    ]
    for s in stores:
        s.upsert("docs", changed)
    assert [s.count("docs") for s in stores] == [len(points)] * 2
    expected = {p.id for p in points if p.payload[payload.DOC_ID] == "doc2"}
    assert [s.document_point_ids("docs", "doc2") for s in stores] == [expected, expected]
    assert [s.document_point_ids("docs", "missing") for s in stores] == [set(), set()]
    for s in stores:
        s.set_document_payload("docs", "doc2", {payload.ACL: ["legal"]})
    legal = AccessScope(frozenset({"legal"}))
    dense = np.ones(DIM, dtype=np.float32)
    (d0, _), (d1, _) = (s.search("docs", dense, None, legal, 50) for s in stores)
    assert {h.id for h in d0} == expected
    assert_same_hits(d0, d1)
    for s in stores:
        s.delete_points("docs", sorted(expected))
    assert [s.document_point_ids("docs", "doc2") for s in stores] == [set(), set()]


def test_iter_points(stores: list[VectorStore]) -> None:
    points = corpus(300)
    apply_all(stores, points)
    listed = [sorted((h.id, h.payload[payload.DOC_ID]) for h in s.iter_points("docs")) for s in stores]
    assert listed[0] == listed[1] == sorted((p.id, p.payload[payload.DOC_ID]) for p in points)


def test_document_point_ids_pages_through_more_than_one_scroll_page(stores: list[VectorStore]) -> None:
    big = [
        PointRecord(
            pid(i), np.ones(DIM, dtype=np.float32), SparseVector([1], [1.0]), {payload.DOC_ID: "big", payload.ACL: []}
        )
        for i in range(600)
    ]
    apply_all(stores, big)
    expected = {pid(i) for i in range(600)}
    assert [s.document_point_ids("docs", "big") for s in stores] == [expected, expected]


def test_edge_store_persists_across_reopen(tmp_path: Path) -> None:
    points = corpus(12)
    store = EdgeStore(tmp_path / "edge")
    store.ensure_collection("docs", DIM)
    store.upsert("docs", points)
    before = store.search("docs", points[0].dense, None, ALL, 3)
    store.close()
    reopened = EdgeStore(tmp_path / "edge")
    assert reopened.list_collections() == ["docs"]
    assert reopened.count("docs") == 12
    assert_same_hits(reopened.search("docs", points[0].dense, None, ALL, 3)[0], before[0])
    reopened.close()

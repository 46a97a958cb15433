"""Tests for enclave_core.vectorstore.qdrant.QdrantStore over the embedded engine (":memory:" and on disk)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient, models

from enclave_core.embedding.sparse import SparseVector
from enclave_core.errors import DependencyUnavailable
from enclave_core.vectorstore import payload
from enclave_core.vectorstore.base import AccessScope, PointRecord
from enclave_core.vectorstore.qdrant import DENSE, SPARSE, QdrantStore, StoreLocked

ALL = AccessScope.unrestricted()


def pid(i: int) -> str:
    return str(uuid.UUID(int=i))


def point(i: int, doc: str = "d1", acl: tuple[str, ...] = ("hr",), dense: list[float] | None = None) -> PointRecord:
    vec = dense if dense is not None else [1.0, float(i), 0.5, 0.25]
    return PointRecord(
        id=pid(i),
        dense=np.array(vec, dtype=np.float32),
        sparse=SparseVector([10, 1000 + i], [1.0, 0.5 + i / 10]),
        payload={
            payload.DOC_ID: doc,
            payload.ACL: list(acl),
            payload.TEXT: f"text {i}",
            payload.CHUNK_INDEX: i,
        },
    )


@pytest.fixture
def client() -> Iterator[QdrantClient]:
    c = QdrantClient(":memory:")
    yield c
    c.close()


@pytest.fixture
def store(client: QdrantClient) -> QdrantStore:
    s = QdrantStore(client, prefix="enclave_")
    s.ensure_collection("docs", dimension=4)
    return s


# -- collections -----------------------------------------------------------------------------------


def test_ensure_collection_creates_the_prefixed_collection(client: QdrantClient) -> None:
    store = QdrantStore(client, prefix="enclave_")
    assert not store.collection_exists("docs")
    store.ensure_collection("docs", dimension=4)
    assert store.collection_exists("docs")
    assert client.collection_exists("enclave_docs")
    assert not client.collection_exists("docs")
    info = client.get_collection("enclave_docs")
    assert info.config.params.vectors[DENSE].size == 4  # type: ignore[index]
    assert info.config.params.vectors[DENSE].distance == models.Distance.COSINE  # type: ignore[index]
    assert info.config.params.sparse_vectors[SPARSE].modifier == models.Modifier.IDF  # type: ignore[index]


def test_ensure_collection_is_idempotent_and_keeps_points(store: QdrantStore) -> None:
    store.upsert("docs", [point(1), point(2)])
    store.ensure_collection("docs", dimension=4)
    store.ensure_collection("docs", dimension=4)
    assert store.count("docs") == 2
    assert store.list_collections() == ["docs"]


def test_list_collections_strips_the_prefix_and_ignores_foreign_collections(client: QdrantClient) -> None:
    ours = QdrantStore(client, prefix="enclave_")
    theirs = QdrantStore(client, prefix="other_")
    for name in ("zeta", "alpha", "mid-1"):
        ours.ensure_collection(name, dimension=4)
    theirs.ensure_collection("alpha", dimension=4)
    client.create_collection("unprefixed", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    assert ours.list_collections() == ["alpha", "mid-1", "zeta"]
    assert theirs.list_collections() == ["alpha"]
    ours.upsert("alpha", [point(1)])
    assert theirs.count("alpha") == 0  # same short name, separate collections


def test_delete_collection(store: QdrantStore) -> None:
    store.ensure_collection("other", dimension=4)
    store.delete_collection("docs")
    assert not store.collection_exists("docs")
    assert store.list_collections() == ["other"]


# -- points -----------------------------------------------------------------------------------------


def test_upsert_count_and_delete_points(store: QdrantStore) -> None:
    assert store.count("docs") == 0
    store.upsert("docs", [])  # no-op
    store.upsert("docs", [point(i) for i in range(1, 6)])
    assert store.count("docs") == 5
    store.upsert("docs", [point(3, doc="d9")])  # same id: replaced, not added
    assert store.count("docs") == 5
    store.delete_points("docs", [pid(1), pid(4)])
    assert store.count("docs") == 3
    store.delete_points("docs", [])  # no-op
    store.delete_points("docs", [pid(42)])  # unknown id: nothing happens
    assert store.count("docs") == 3
    assert store.document_point_ids("docs", "d1") == {pid(2), pid(5)}
    assert store.document_point_ids("docs", "d9") == {pid(3)}


def test_document_point_ids_pages_through_more_than_one_scroll_page(store: QdrantStore) -> None:
    store.upsert(
        "docs",
        [point(i, doc="big") for i in range(1, 301)] + [point(i, doc="small") for i in range(301, 304)],
    )
    assert store.document_point_ids("docs", "big") == {pid(i) for i in range(1, 301)}
    assert store.document_point_ids("docs", "small") == {pid(301), pid(302), pid(303)}
    assert store.document_point_ids("docs", "none") == set()


def test_set_document_payload_changes_the_acl_only(store: QdrantStore, client: QdrantClient) -> None:
    store.upsert("docs", [point(1, "d1"), point(2, "d1"), point(3, "d2")])
    ids = [pid(1), pid(2), pid(3)]
    before = {p.id: p for p in client.retrieve("enclave_docs", ids, with_vectors=True, with_payload=True)}

    store.set_document_payload("docs", "d1", {payload.ACL: ["eng", "legal"]})

    after = {p.id: p for p in client.retrieve("enclave_docs", ids, with_vectors=True, with_payload=True)}
    for i in ids:
        assert after[i].vector[DENSE] == before[i].vector[DENSE]  # type: ignore[index]
        assert after[i].vector[SPARSE] == before[i].vector[SPARSE]  # type: ignore[index]
    assert after[pid(1)].payload[payload.ACL] == ["eng", "legal"]  # type: ignore[index]
    assert after[pid(2)].payload[payload.ACL] == ["eng", "legal"]  # type: ignore[index]
    assert after[pid(3)].payload[payload.ACL] == ["hr"]  # type: ignore[index]  (other document untouched)
    # The other payload fields are kept.
    assert after[pid(1)].payload[payload.TEXT] == "text 1"  # type: ignore[index]
    assert after[pid(1)].payload[payload.DOC_ID] == "d1"  # type: ignore[index]
    # And the search filter sees the new ACL at once.
    dense, _ = store.search("docs", np.ones(4, dtype=np.float32), None, AccessScope(frozenset({"hr"})), 10)
    assert [h.id for h in dense] == [pid(3)]
    dense, _ = store.search("docs", np.ones(4, dtype=np.float32), None, AccessScope(frozenset({"legal"})), 10)
    assert {h.id for h in dense} == {pid(1), pid(2)}


# -- search -----------------------------------------------------------------------------------------


def test_search_returns_dense_and_sparse_lists_each_sorted_by_score(store: QdrantStore) -> None:
    store.upsert(
        "docs",
        [
            PointRecord(pid(1), np.array([1, 0, 0, 0], np.float32), SparseVector([5], [0.2]), {"acl": ["hr"]}),
            PointRecord(pid(2), np.array([0, 1, 0, 0], np.float32), SparseVector([5], [2.0]), {"acl": ["hr"]}),
            PointRecord(pid(3), np.array([1, 1, 0, 0], np.float32), SparseVector([5, 6], [1.0, 1.0]), {"acl": ["hr"]}),
            PointRecord(pid(4), np.array([0, 0, 1, 0], np.float32), SparseVector([6], [1.0]), {"acl": ["hr"]}),
        ],
    )
    dense, sparse = store.search("docs", np.array([1, 0.2, 0, 0], np.float32), SparseVector([5], [1.0]), ALL, limit=10)
    assert [h.id for h in dense] == [pid(1), pid(3), pid(2), pid(4)]
    assert [h.score for h in dense] == sorted((h.score for h in dense), reverse=True)
    assert dense[0].score == pytest.approx(1 / np.sqrt(1.04), rel=1e-5)
    # Only points holding term 5 are sparse candidates, ranked by their term-5 weight.
    assert [h.id for h in sparse] == [pid(2), pid(3), pid(1)]
    assert [h.score for h in sparse] == sorted((h.score for h in sparse), reverse=True)
    assert all(isinstance(h.id, str) for h in dense + sparse)
    assert dense[0].payload == {"acl": ["hr"]}


def test_search_limit_applies_to_each_list(store: QdrantStore) -> None:
    store.upsert("docs", [point(i) for i in range(1, 11)])
    dense, sparse = store.search("docs", np.ones(4, np.float32), SparseVector([10], [1.0]), ALL, limit=3)
    assert len(dense) == 3 and len(sparse) == 3


@pytest.mark.parametrize(
    ("use_dense", "sparse", "expected_lengths"),
    [
        (True, None, (3, 0)),
        (False, SparseVector([10], [1.0]), (0, 3)),
        (True, SparseVector([], []), (3, 0)),  # a query with no terms (stop words only)
        (False, SparseVector([999999], [1.0]), (0, 0)),  # a term no chunk holds
        (False, None, (0, 0)),
    ],
)
def test_search_with_one_retriever(
    store: QdrantStore, use_dense: bool, sparse: SparseVector | None, expected_lengths: tuple[int, int]
) -> None:
    store.upsert("docs", [point(i) for i in range(1, 4)])
    dense_q = np.ones(4, np.float32) if use_dense else None
    dense, sparse_hits = store.search("docs", dense_q, sparse, ALL, limit=10)
    assert (len(dense), len(sparse_hits)) == expected_lengths


def test_search_returns_payloads(store: QdrantStore) -> None:
    store.upsert("docs", [point(7, doc="dx", acl=("eng",))])
    dense, sparse = store.search("docs", np.ones(4, np.float32), SparseVector([10], [1.0]), ALL, 5)
    expected = {payload.DOC_ID: "dx", payload.ACL: ["eng"], payload.TEXT: "text 7", payload.CHUNK_INDEX: 7}
    assert dense[0].payload == expected
    assert sparse[0].payload == expected


def test_check_on_a_working_store(store: QdrantStore) -> None:
    store.check()


# -- the embedded store on disk --------------------------------------------------------------------


def test_embedded_store_persists_and_refuses_a_second_opener(tmp_path: Path) -> None:
    path = tmp_path / "qdrant"
    first = QdrantStore.embedded(path)
    try:
        first.ensure_collection("docs", dimension=4)
        first.upsert("docs", [point(1), point(2)])
        with pytest.raises(StoreLocked) as info:
            QdrantStore.embedded(path)
        assert isinstance(info.value, DependencyUnavailable)
        assert str(path) in str(info.value)
    finally:
        first.close()
    second = QdrantStore.embedded(path)
    try:
        assert second.list_collections() == ["docs"]
        assert second.count("docs") == 2
    finally:
        second.close()


def test_embedded_store_creates_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "qdrant"
    store = QdrantStore.embedded(path, prefix="x_")
    try:
        assert path.is_dir()
        assert store.list_collections() == []
    finally:
        store.close()

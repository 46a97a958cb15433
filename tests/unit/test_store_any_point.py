"""``any_point`` (the read path's "can this scope read anything here?") agrees with an exact count
on both embedded backends, for every kind of scope, and the service's 404 stays the same answer for
"does not exist" and "cannot read"."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qdrant_client import QdrantClient

from enclave_core.embedding.sparse import BM25Encoder
from enclave_core.errors import UnknownCollection
from enclave_core.identity import Principal
from enclave_core.service import RagService
from enclave_core.vectorstore import payload
from enclave_core.vectorstore.base import AccessScope, PointRecord, VectorStore, any_readable
from enclave_core.vectorstore.edge import EdgeStore
from enclave_core.vectorstore.qdrant import QdrantStore

DIM = 4
ACLS = [["hr"], ["eng"], ["hr", "finance"], []]


def points(n: int = 24) -> list[PointRecord]:
    rng = np.random.default_rng(3)
    enc = BM25Encoder()
    return [
        PointRecord(
            id=str(uuid.UUID(int=i + 1)),
            dense=rng.normal(size=DIM).astype(np.float32),
            sparse=enc.encode_document(f"chunk {i}"),
            payload={payload.DOC_ID: f"doc{i // 3}", payload.ACL: ACLS[i % len(ACLS)], payload.TEXT: f"chunk {i}"},
        )
        for i in range(n)
    ]


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[list[VectorStore]]:
    local = QdrantStore(QdrantClient(":memory:"))
    edge = EdgeStore(tmp_path / "edge")
    for s in (local, edge):
        s.ensure_collection("docs", DIM)
        s.upsert("docs", points())
        s.ensure_collection("empty", DIM)
    yield [local, edge]
    local.close()
    edge.close()


SCOPES = [
    AccessScope.unrestricted(),
    AccessScope(frozenset({"hr"})),
    AccessScope(frozenset({"finance"})),
    AccessScope(frozenset({"board"})),  # matches no chunk
    AccessScope(frozenset()),  # no group at all
    AccessScope(frozenset({"hr"}), doc_ids=frozenset({"doc1"})),  # doc1 = chunks 3-5: hr on chunk 4 only
    AccessScope(frozenset({"eng"}), doc_ids=frozenset({"doc1"})),  # doc1's eng chunk is chunk 5
    AccessScope(frozenset({"eng"}), doc_ids=frozenset({"doc2"})),  # chunks 6-8: hr+finance, [], hr
    AccessScope(frozenset({"hr"}), doc_ids=frozenset()),
]


@pytest.mark.parametrize("scope", SCOPES, ids=[str(i) for i in range(len(SCOPES))])
@pytest.mark.parametrize("collection", ["docs", "empty"])
def test_any_point_agrees_with_the_exact_count_on_both_backends(
    stores: list[VectorStore], scope: AccessScope, collection: str
) -> None:
    expected = stores[0].count(collection, scope) > 0
    assert [s.any_point(collection, scope) for s in stores] == [expected, expected]  # type: ignore[attr-defined]
    assert [any_readable(s, collection, scope) for s in stores] == [expected, expected]


def test_the_scopes_cover_both_answers(stores: list[VectorStore]) -> None:
    answers = {stores[0].count("docs", s) > 0 for s in SCOPES}
    assert answers == {True, False}  # else the congruence test above could not fail


def test_a_store_without_the_probe_is_asked_for_its_count() -> None:
    class Counting:
        def count(self, name: str, scope: Any = None) -> int:
            return 2 if name == "docs" else 0

    assert any_readable(Counting(), "docs", AccessScope(frozenset({"x"})))
    assert not any_readable(Counting(), "other", AccessScope(frozenset({"x"})))


class _Core:
    """Just what the visibility check reads."""

    def __init__(self, store: VectorStore) -> None:
        self.store = store


@pytest.mark.parametrize("backend", [0, 1], ids=["qdrant-local", "edge"])
def test_unreadable_and_missing_collections_are_the_same_404(stores: list[VectorStore], backend: int) -> None:
    service = RagService(_Core(stores[backend]))  # type: ignore[arg-type]
    board = Principal("b", frozenset({"board"}), frozenset(), auth="api-key")
    hr = Principal("h", frozenset({"hr"}), frozenset(), auth="api-key")
    errors = []
    for who, collection in ((board, "docs"), (board, "missing"), (hr, "empty"), (hr, "missing")):
        with pytest.raises(UnknownCollection) as caught:
            service._require_visible(collection, who.scope())
        errors.append((type(caught.value), str(caught.value).replace(collection, "NAME")))
    assert len(set(errors)) == 1
    service._require_visible("docs", hr.scope())  # readable: no error

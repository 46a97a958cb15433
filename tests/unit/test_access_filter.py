"""Property tests of ACL enforcement: scope_filter inside a real embedded (in-memory) Qdrant.

For random principals and random chunk ACLs, a search must return exactly the chunks whose ACL
shares a group with the principal; administrators (groups=None) see everything; a principal
with no group sees nothing; a chunk with an empty ACL is seen by administrators only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qdrant_client import QdrantClient, models

from enclave_core.embedding.sparse import SparseVector
from enclave_core.identity import ADMIN_ROLE, AUDITOR_ROLE, LOCAL_ADMIN, Principal
from enclave_core.vectorstore import payload
from enclave_core.vectorstore.base import AccessScope, PointRecord
from enclave_core.vectorstore.filters import MATCH_NOTHING_GROUP, scope_filter
from enclave_core.vectorstore.qdrant import QdrantStore

PROPS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Includes near-duplicates: matching must be exact and case-sensitive.
GROUPS = ["eng", "Eng", "hr", "hr-emea", "legal", "sales", "ünï"]
COLLECTION = "acl"

group_sets = st.frozensets(st.sampled_from(GROUPS), max_size=len(GROUPS))
chunks = st.lists(
    st.tuples(
        group_sets,  # ACL
        st.lists(st.floats(0.05, 1.0, allow_nan=False), min_size=4, max_size=4),  # dense vector
        st.sampled_from(["d1", "d2", "d3"]),  # doc id
    ),
    max_size=14,
)
query_vectors = st.lists(st.floats(0.05, 1.0, allow_nan=False), min_size=4, max_size=4)


@pytest.fixture(scope="module")
def store() -> Iterator[QdrantStore]:
    s = QdrantStore(QdrantClient(":memory:"), prefix="t_")
    yield s
    s.close()


def point_id(i: int) -> str:
    return str(uuid.UUID(int=i + 1))


def load_chunks(store: QdrantStore, data: list[tuple[frozenset[str], list[float], str]]) -> dict[str, tuple]:
    """A fresh collection holding the chunks; returns {point id: (acl, doc id)}."""
    store.delete_collection(COLLECTION)
    store.ensure_collection(COLLECTION, dimension=4)
    points = [
        PointRecord(
            id=point_id(i),
            dense=np.array(vec, dtype=np.float32),
            sparse=SparseVector([7, 100 + i], [1.0, 0.5]),  # term 7 is in every chunk
            payload={payload.ACL: sorted(acl), payload.DOC_ID: doc, payload.TEXT: f"chunk {i}"},
        )
        for i, (acl, vec, doc) in enumerate(data)
    ]
    store.upsert(COLLECTION, points)
    assert store.count(COLLECTION) == len(points)
    return {point_id(i): (acl, doc) for i, (acl, _, doc) in enumerate(data)}


def visible(store: QdrantStore, scope: AccessScope, query: list[float]) -> tuple[set[str], set[str]]:
    dense, sparse = store.search(
        COLLECTION, np.array(query, dtype=np.float32), SparseVector([7], [1.0]), scope, limit=100
    )
    # No duplicates in either list.
    assert len(dense) == len({h.id for h in dense})
    assert len(sparse) == len({h.id for h in sparse})
    return {h.id for h in dense}, {h.id for h in sparse}


@PROPS
@given(data=chunks, groups=group_sets, query=query_vectors)
def test_search_returns_exactly_the_chunks_sharing_a_group(
    store: QdrantStore, data: list, groups: frozenset[str], query: list[float]
) -> None:
    chunks_by_id = load_chunks(store, data)
    expected = {pid for pid, (acl, _) in chunks_by_id.items() if acl & groups}
    dense, sparse = visible(store, AccessScope(groups=groups), query)
    assert dense == expected
    assert sparse == expected


@PROPS
@given(data=chunks, query=query_vectors)
def test_admin_sees_every_chunk_including_empty_acls(store: QdrantStore, data: list, query: list[float]) -> None:
    chunks_by_id = load_chunks(store, data)
    dense, sparse = visible(store, AccessScope.unrestricted(), query)
    assert dense == sparse == set(chunks_by_id)
    assert LOCAL_ADMIN.scope() == AccessScope.unrestricted()


@PROPS
@given(data=chunks, query=query_vectors)
def test_principal_without_groups_sees_nothing(store: QdrantStore, data: list, query: list[float]) -> None:
    load_chunks(store, data)
    # Both the bare scope and the scope derived from a group-less, non-admin identity.
    assert visible(store, AccessScope(groups=frozenset()), query) == (set(), set())
    scope = Principal("nobody", frozenset(), frozenset({AUDITOR_ROLE})).scope()
    assert scope.groups is not None
    assert visible(store, scope, query) == (set(), set())


@PROPS
@given(data=chunks, groups=group_sets, query=query_vectors)
def test_empty_acl_is_seen_by_administrators_only(
    store: QdrantStore, data: list, groups: frozenset[str], query: list[float]
) -> None:
    chunks_by_id = load_chunks(store, data)
    empty_acl = {pid for pid, (acl, _) in chunks_by_id.items() if not acl}
    user = Principal("u", groups, frozenset())
    admin = Principal("a", groups, frozenset({ADMIN_ROLE}))
    user_dense, user_sparse = visible(store, user.scope(), query)
    admin_dense, admin_sparse = visible(store, admin.scope(), query)
    assert not (user_dense | user_sparse) & empty_acl
    assert empty_acl <= admin_dense and empty_acl <= admin_sparse
    # An admin's own groups never narrow what they see.
    assert admin_dense == set(chunks_by_id)


@PROPS
@given(
    data=chunks,
    groups=st.one_of(st.none(), group_sets),
    doc_ids=st.frozensets(st.sampled_from(["d1", "d2", "d3", "d4"])),
    query=query_vectors,
)
def test_doc_id_narrowing_is_combined_with_the_acl(
    store: QdrantStore, data: list, groups: frozenset[str] | None, doc_ids: frozenset[str], query: list[float]
) -> None:
    chunks_by_id = load_chunks(store, data)
    expected = {pid for pid, (acl, doc) in chunks_by_id.items() if (groups is None or acl & groups) and doc in doc_ids}
    dense, sparse = visible(store, AccessScope(groups=groups, doc_ids=doc_ids), query)
    assert dense == expected
    assert sparse == expected


def test_principal_without_groups_sees_nothing_even_with_a_sentinel_acl(store: QdrantStore) -> None:
    load_chunks(store, [(frozenset({MATCH_NOTHING_GROUP}), [0.5, 0.5, 0.5, 0.5], "d1")])
    assert visible(store, AccessScope(groups=frozenset()), [1, 1, 1, 1]) == (set(), set())


# -- the filter itself -------------------------------------------------------------------------------


def test_unrestricted_scope_has_no_filter() -> None:
    assert scope_filter(AccessScope.unrestricted()) is None


@pytest.mark.parametrize(
    ("scope", "expected_any"),
    [
        (AccessScope(frozenset({"sales", "eng", "hr"})), [["eng", "hr", "sales"]]),
        (AccessScope(frozenset()), [[MATCH_NOTHING_GROUP]]),
        (AccessScope(frozenset({"hr"}), doc_ids=frozenset({"b", "a"})), [["hr"], ["a", "b"]]),
        (AccessScope(None, doc_ids=frozenset()), [[MATCH_NOTHING_GROUP]]),
    ],
)
def test_scope_filter_conditions(scope: AccessScope, expected_any: list[list[str]]) -> None:
    flt = scope_filter(scope)
    assert isinstance(flt, models.Filter)
    assert flt.should is None and flt.must_not is None
    assert isinstance(flt.must, list)
    got = [(c.key, c.match.any) for c in flt.must]  # type: ignore[union-attr]
    keys = ([payload.ACL] if scope.groups is not None else []) + ([payload.DOC_ID] if scope.doc_ids is not None else [])
    assert got == list(zip(keys, expected_any, strict=True))


# identity.py is being extended so that a non-admin scope may also carry the "*" group (an ACL
# entry meaning "any authenticated principal"); these tests accept that and nothing more.
@pytest.mark.parametrize(
    ("roles", "groups", "admin"),
    [
        (frozenset({ADMIN_ROLE}), frozenset({"hr"}), True),
        (frozenset({ADMIN_ROLE, AUDITOR_ROLE}), frozenset(), True),
        (frozenset({AUDITOR_ROLE}), frozenset({"hr"}), False),
        (frozenset(), frozenset(), False),
        (frozenset(), frozenset({"eng", "hr"}), False),
        (frozenset({"Admin"}), frozenset({"hr"}), False),  # role names are exact
        (frozenset({"admin "}), frozenset({"hr"}), False),
    ],
)
def test_principal_scope(roles: frozenset[str], groups: frozenset[str], admin: bool) -> None:
    principal = Principal("p", groups, roles)
    assert principal.is_admin is admin
    scope = principal.scope()
    assert scope.doc_ids is None
    if admin:
        assert scope == AccessScope.unrestricted()
    else:
        assert scope.groups is not None
        assert groups <= scope.groups <= groups | {"*"}

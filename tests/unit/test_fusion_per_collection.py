"""Fusion weights per collection (settings ``retrieval.collections``): Japanese collections weigh dense more."""

from __future__ import annotations

from enclave_core.settings import FusionWeights
from tests.unit.test_retrieval import SCOPE, hits, make


def test_a_matching_collection_uses_its_own_weights() -> None:
    # Dense prefers a, BM25 prefers b, by the same margins: the heavier retriever decides.
    dense, sparse = hits("a", "b", "c"), hits("b", "a", "c")
    overrides = {"*-ja": FusionWeights(dense_weight=0.6, sparse_weight=0.4)}
    retriever, store, _ = make(dense, sparse, dense_weight=0.4, sparse_weight=0.6, collections=overrides)
    store.collections |= {"rules-ja"}
    assert retriever.search("docs", "q", SCOPE)[0].chunk_id == "b"  # the global 0.4/0.6
    assert retriever.search("rules-ja", "q", SCOPE)[0].chunk_id == "a"  # the override 0.6/0.4

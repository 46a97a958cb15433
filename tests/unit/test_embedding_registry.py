"""Per-collection embedding models, and the refusal to mix two models' vectors in one collection."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from enclave_core.embedding.base import Vectors
from enclave_core.embedding.registry import (
    MODEL_KEY,
    VARIANT_KEY,
    CollectionEmbedders,
    EmbeddingModelMismatch,
    EmbeddingVariantMismatch,
)
from enclave_core.embedding.sparse import BM25Encoder
from enclave_core.errors import InputError
from enclave_core.retrieval import Retriever
from enclave_core.settings import EmbeddingSettings, RetrievalSettings
from enclave_core.vectorstore.base import AccessScope, VectorStore
from enclave_core.vectorstore.edge import EdgeStore
from enclave_core.vectorstore.qdrant import QdrantStore


class FakeEmbedder:
    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    @property
    def dimension(self) -> int:
        return self.dim

    @property
    def model_id(self) -> str:
        return self.name

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return np.ones((len(texts), self.dim), dtype=np.float32) / np.sqrt(self.dim)

    def embed_query(self, text: str) -> Vectors:
        return self.embed_documents([text])[0]


MODELS = {"packaged:en": FakeEmbedder("en-model", 4), "packaged:ja": FakeEmbedder("ja-model", 8)}


@pytest.fixture(params=["edge", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    if request.param == "edge":
        edge = EdgeStore(tmp_path / "edge")
        yield edge
        edge.close()
    else:
        client = QdrantClient(path=str(tmp_path / "local"))
        yield QdrantStore(client, prefix="enclave_")
        client.close()


def embedders(store: VectorStore, collections: dict[str, str] | None = None) -> CollectionEmbedders:
    settings = EmbeddingSettings(model="packaged:en", collections=collections or {})
    return CollectionEmbedders(settings, store, MODELS.__getitem__)


def test_model_is_chosen_per_collection_by_name_or_glob(store: VectorStore) -> None:
    choice = embedders(store, {"legal": "packaged:ja", "*-ja": "packaged:ja"})
    assert choice.embedder_for("samples-ja").model_id == "ja-model"
    assert choice.embedder_for("legal").model_id == "ja-model"
    assert choice.embedder_for("samples").model_id == "en-model"


def test_a_new_collection_records_its_model_and_dimension(store: VectorStore) -> None:
    embedders(store, {"*-ja": "packaged:ja"}).prepare("docs-ja")
    assert store.collection_metadata("docs-ja") == {
        "embedding_model": "ja-model",
        "embedding_dimension": 8,
        "embedding_variant": "float32",
    }


def test_ingest_and_search_with_another_model_are_refused(store: VectorStore) -> None:
    embedders(store).prepare("docs")  # built with the English model
    changed = embedders(store, {"docs": "packaged:ja"})
    with pytest.raises(EmbeddingModelMismatch, match=r"en-model.*ja-model") as refusal:
        changed.prepare("docs")
    assert isinstance(refusal.value, InputError)  # a clear 4xx / exit 2, not a crash
    retriever = Retriever(store, MODELS["packaged:ja"], BM25Encoder(), RetrievalSettings(), embedders=changed)
    with pytest.raises(EmbeddingModelMismatch):
        retriever.search("docs", "question", AccessScope.unrestricted())
    # BM25 alone does not touch the dense vectors: still allowed.
    assert retriever.search("docs", "question", AccessScope.unrestricted(), mode="sparse") == []
    # The same model as before: accepted.
    assert embedders(store).check("docs").model_id == "en-model"


def test_a_collection_from_before_the_record_is_bound_on_its_next_ingest(store: VectorStore) -> None:
    store.ensure_collection("old", 4)
    assert store.collection_metadata("old") == {}
    choice = embedders(store)
    assert choice.check("old").model_id == "en-model"  # nothing recorded: nothing to refuse
    choice.prepare("old")
    assert store.collection_metadata("old")[MODEL_KEY] == "en-model"
    with pytest.raises(EmbeddingModelMismatch):
        embedders(store, {"old": "packaged:ja"}).check("old")


class Int8Embedder(FakeEmbedder):
    """The same model quantised: other vectors (here the opposite sign), which must never mix with float32 ones."""

    variant = "onnx-int8"

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return -super().embed_documents(texts)


def quantized(store: VectorStore, *, can_build: bool = True) -> tuple[CollectionEmbedders, list[tuple[str, str]]]:
    """Settings that now choose int8 (as ``embedding.quantize: true`` does); records what it had to build."""
    built: list[tuple[str, str]] = []

    def build_variant(model: str, variant: str) -> FakeEmbedder:
        built.append((model, variant))
        return MODELS[model] if variant == "float32" else Int8Embedder("en-model", 4)

    settings = EmbeddingSettings(model="packaged:en")
    return CollectionEmbedders(
        settings,
        store,
        {"packaged:en": Int8Embedder("en-model", 4)}.__getitem__,
        build_variant=build_variant if can_build else None,
    ), built


def test_a_new_collection_records_the_int8_variant(store: VectorStore) -> None:
    choice, _ = quantized(store)
    assert choice.prepare("fresh").variant == "onnx-int8"  # type: ignore[attr-defined]
    assert store.collection_metadata("fresh")[VARIANT_KEY] == "onnx-int8"
    # Settings back at float32: the int8 collection is still embedded in int8.
    ints = CollectionEmbedders(EmbeddingSettings(model="packaged:en"), store, MODELS.__getitem__)
    with pytest.raises(EmbeddingVariantMismatch, match="onnx-int8"):
        ints.check("fresh")  # no way to build int8 here: refused, not searched with float32


def test_a_float32_collection_stays_float32_when_settings_choose_int8(store: VectorStore) -> None:
    embedders(store).prepare("docs")  # built in float32
    assert store.collection_metadata("docs")[VARIANT_KEY] == "float32"
    choice, built = quantized(store)
    query = choice.check("docs").embed_query("question")
    assert np.allclose(query, MODELS["packaged:en"].embed_query("question"))  # float32 vectors, not int8
    assert choice.prepare("docs") is MODELS["packaged:en"]  # more documents: float32 too
    assert built == [("packaged:en", "float32")]  # built once, then reused
    assert store.collection_metadata("docs")[VARIANT_KEY] == "float32"  # the record never changes


def test_collections_without_a_variant_are_float32(store: VectorStore) -> None:
    store.ensure_collection("recorded", 4, {"embedding_model": "en-model", "embedding_dimension": 4})
    store.ensure_collection("older", 4)  # from before any record
    choice, _ = quantized(store)
    for name in ("recorded", "older"):
        assert choice.check(name) is MODELS["packaged:en"]
    choice.prepare("older")
    assert store.collection_metadata("older")[VARIANT_KEY] == "float32"


def test_a_variant_that_cannot_be_built_is_refused_clearly(store: VectorStore) -> None:
    embedders(store).prepare("docs")
    choice, _ = quantized(store, can_build=False)
    with pytest.raises(EmbeddingVariantMismatch, match=r"float32.*re-ingest") as refusal:
        choice.check("docs")
    assert isinstance(refusal.value, InputError)

"""Per-collection embedding models, and the refusal to mix two models' vectors in one collection."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from enclave_core.embedding.base import Vectors
from enclave_core.embedding.registry import MODEL_KEY, CollectionEmbedders, EmbeddingModelMismatch
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
    assert store.collection_metadata("docs-ja") == {"embedding_model": "ja-model", "embedding_dimension": 8}


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

"""Which embedding model serves each collection, and the guard that keeps it from changing under its vectors.

Settings name a default model and, per collection name or glob (``"*-ja"``), another one: a Japanese
collection needs a multilingual model while English collections keep MiniLM. A collection records
the model and dimension it was created with in its metadata; ingesting into it or searching it
with a different model is refused with a clear error, because vectors from two models are not
comparable and nothing would say why the answers got worse. Collections created before this
record existed carry none: the first ingest records the model then in use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from fnmatch import fnmatchcase

from enclave_core.embedding.base import Embedder
from enclave_core.errors import InputError
from enclave_core.settings import EmbeddingSettings
from enclave_core.vectorstore.base import VectorStore

__all__ = ["MODEL_KEY", "CollectionEmbedders", "EmbeddingModelMismatch"]

MODEL_KEY = "embedding_model"
DIMENSION_KEY = "embedding_dimension"


class EmbeddingModelMismatch(InputError):
    """The collection's vectors come from another embedding model than the one configured for it."""

    def __init__(self, collection: str, stored: str, configured: str) -> None:
        super().__init__(
            f"collection '{collection}' was built with embedding model {stored}, but settings now choose "
            f"{configured}; vectors of different models cannot be compared. Set embedding.collections "
            f"for '{collection}' back to that model, or re-ingest into a new collection."
        )
        self.collection = collection


class CollectionEmbedders:
    def __init__(
        self,
        settings: EmbeddingSettings,
        store: VectorStore,
        build: Callable[[str], Embedder],
        default: Embedder | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._build = build
        self._embedders: dict[str, Embedder] = {settings.model: default} if default is not None else {}
        self._lock = threading.Lock()

    def model_for(self, collection: str) -> str:
        """The model setting for this collection: the first matching entry of ``collections``, else the default."""
        for pattern, model in self._settings.collections.items():
            if fnmatchcase(collection, pattern):
                return model
        return self._settings.model

    def embedder_for(self, collection: str) -> Embedder:
        model = self.model_for(collection)
        with self._lock:
            embedder = self._embedders.get(model)
            if embedder is None:
                embedder = self._embedders[model] = self._build(model)
            return embedder

    def prepare(self, collection: str) -> Embedder:
        """Before ingesting: create the collection bound to its model, or check the binding it has."""
        embedder = self.embedder_for(collection)
        binding = {MODEL_KEY: embedder.model_id, DIMENSION_KEY: embedder.dimension}
        if not self._store.collection_exists(collection):
            self._store.ensure_collection(collection, embedder.dimension, binding)
            return embedder
        if not self._store.collection_metadata(collection).get(MODEL_KEY):
            self._store.update_collection_metadata(collection, binding)
            return embedder
        return self.check(collection)

    def check(self, collection: str) -> Embedder:
        """Before searching (the collection exists): the configured embedder, if it is the one that built it."""
        embedder = self.embedder_for(collection)
        meta = self._store.collection_metadata(collection)
        stored_model, stored_dim = meta.get(MODEL_KEY), meta.get(DIMENSION_KEY)
        if stored_model is None:
            return embedder
        if stored_model != embedder.model_id or (stored_dim is not None and stored_dim != embedder.dimension):
            raise EmbeddingModelMismatch(
                collection,
                f"'{stored_model}' ({stored_dim} dimensions)",
                f"'{embedder.model_id}' ({embedder.dimension} dimensions)",
            )
        return embedder

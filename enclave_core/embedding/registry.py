"""Which embedding model serves each collection, and the guard that keeps it from changing under its vectors.

Settings name a default model and, per collection name or glob (``"*-ja"``), another one: a Japanese
collection needs a multilingual model while English collections keep MiniLM. A collection records
the model and dimension it was created with in its metadata; ingesting into it or searching it
with a different model is refused with a clear error, because vectors from two models are not
comparable and nothing would say why the answers got worse. Collections created before this
record existed carry none: the first ingest records the model then in use.

The record also names the model's variant (``float32``, or ``onnx-int8`` for the quantised graph):
int8 vectors are close to float32 ones (cosine 0.994) but not the same, so a collection keeps being
embedded, for ingest and for queries, in the variant it was built with, whatever ``embedding.quantize``
says now. Collections without a variant in their record were built before int8 existed as a choice,
in float32.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from fnmatch import fnmatchcase

from enclave_core.embedding.base import Embedder
from enclave_core.errors import InputError
from enclave_core.settings import EmbeddingSettings
from enclave_core.vectorstore.base import VectorStore

__all__ = [
    "FLOAT32",
    "MODEL_KEY",
    "VARIANT_KEY",
    "CollectionEmbedders",
    "EmbeddingModelMismatch",
    "EmbeddingVariantMismatch",
    "variant_of",
]

MODEL_KEY = "embedding_model"
DIMENSION_KEY = "embedding_dimension"
VARIANT_KEY = "embedding_variant"
FLOAT32 = "float32"


def variant_of(embedder: Embedder) -> str:
    """The numeric variant of an embedder's vectors; embedders that do not say are float32."""
    return str(getattr(embedder, "variant", FLOAT32))


class EmbeddingModelMismatch(InputError):
    """The collection's vectors come from another embedding model than the one configured for it."""

    def __init__(self, collection: str, stored: str, configured: str) -> None:
        super().__init__(
            f"collection '{collection}' was built with embedding model {stored}, but settings now choose "
            f"{configured}; vectors of different models cannot be compared. Set embedding.collections "
            f"for '{collection}' back to that model, or re-ingest into a new collection."
        )
        self.collection = collection


class EmbeddingVariantMismatch(EmbeddingModelMismatch):
    """The collection's vectors come from another variant (float32 / int8) that cannot be built here."""

    def __init__(self, collection: str, model: str, stored: str, configured: str) -> None:
        InputError.__init__(
            self,
            f"collection '{collection}' was built with embedding model '{model}' in variant {stored}, which "
            f"these settings cannot build (they give {configured}); its vectors must not be mixed with or "
            f"searched by another variant's. Use embedding.backend: onnx (int8 needs it), or re-ingest "
            f"into a new collection.",
        )
        self.collection = collection


class CollectionEmbedders:
    def __init__(
        self,
        settings: EmbeddingSettings,
        store: VectorStore,
        build: Callable[[str], Embedder],
        default: Embedder | None = None,
        build_variant: Callable[[str, str], Embedder] | None = None,
    ) -> None:
        """``build_variant(model, variant)``: the model in another variant than settings choose, for
        collections built in that one; without it such a collection is refused."""
        self._settings = settings
        self._store = store
        self._build = build
        self._build_variant = build_variant
        self._embedders: dict[str, Embedder] = {settings.model: default} if default is not None else {}
        self._variants: dict[tuple[str, str], Embedder] = {}
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
        if not self._store.collection_exists(collection):
            self._store.ensure_collection(collection, embedder.dimension, _binding(embedder))
            return embedder
        if not self._store.collection_metadata(collection).get(MODEL_KEY):
            embedder = self._in_variant(collection, embedder, FLOAT32)  # its vectors predate int8
            self._store.update_collection_metadata(collection, _binding(embedder))
            return embedder
        return self.check(collection)

    def check(self, collection: str) -> Embedder:
        """The embedder for a collection that exists (searching it, ingesting more into it): the
        configured model, in the variant that built the collection, if it is the model that built it."""
        embedder = self.embedder_for(collection)
        meta = self._store.collection_metadata(collection)
        stored_model, stored_dim = meta.get(MODEL_KEY), meta.get(DIMENSION_KEY)
        if stored_model is None:
            return self._in_variant(collection, embedder, FLOAT32)
        if stored_model == embedder.model_id:
            embedder = self._in_variant(collection, embedder, str(meta.get(VARIANT_KEY) or FLOAT32))
        if stored_model != embedder.model_id or (stored_dim is not None and stored_dim != embedder.dimension):
            raise EmbeddingModelMismatch(
                collection,
                f"'{stored_model}' ({stored_dim} dimensions)",
                f"'{embedder.model_id}' ({embedder.dimension} dimensions)",
            )
        return embedder

    def _in_variant(self, collection: str, embedder: Embedder, variant: str) -> Embedder:
        """``embedder``'s model in ``variant`` (the configured embedder when it is that variant)."""
        if variant_of(embedder) == variant:
            return embedder
        model = self.model_for(collection)
        if self._build_variant is None:
            raise EmbeddingVariantMismatch(collection, embedder.model_id, variant, variant_of(embedder))
        with self._lock:
            built = self._variants.get((model, variant))
            if built is None:
                built = self._variants[(model, variant)] = self._build_variant(model, variant)
        if variant_of(built) != variant:
            raise EmbeddingVariantMismatch(collection, embedder.model_id, variant, variant_of(built))
        return built


def _binding(embedder: Embedder) -> dict[str, object]:
    return {MODEL_KEY: embedder.model_id, DIMENSION_KEY: embedder.dimension, VARIANT_KEY: variant_of(embedder)}

"""Vector store: one interface, Qdrant behind it (server when QDRANT_URL is set, else embedded)."""

from enclave_core.settings import Settings
from enclave_core.vectorstore.base import AccessScope, Hit, PointRecord, VectorStore
from enclave_core.vectorstore.qdrant import QdrantStore, StoreLocked

__all__ = ["AccessScope", "Hit", "PointRecord", "QdrantStore", "StoreLocked", "VectorStore", "build_store"]


def build_store(settings: Settings) -> VectorStore:
    vs = settings.vector_store
    if vs.url:
        key = vs.api_key.get_secret_value() if vs.api_key else None
        return QdrantStore.remote(vs.url, key, vs.timeout_s, vs.collection_prefix)
    return QdrantStore.embedded(settings.qdrant_path, vs.collection_prefix)

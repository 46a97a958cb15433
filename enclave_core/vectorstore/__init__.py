"""Vector store: one interface, Qdrant behind it (server when QDRANT_URL is set, else embedded:
qdrant-client local mode or qdrant-edge, as ``vector_store.embedded_engine`` says)."""

from pathlib import Path

from enclave_core.errors import PolicyError
from enclave_core.settings import Settings
from enclave_core.vectorstore.base import AccessScope, Hit, PointRecord, VectorStore
from enclave_core.vectorstore.qdrant import QdrantStore, StoreLocked

__all__ = ["AccessScope", "Hit", "PointRecord", "QdrantStore", "StoreLocked", "VectorStore", "build_store"]


def build_store(settings: Settings) -> VectorStore:
    vs = settings.vector_store
    if vs.url:
        key = vs.api_key.get_secret_value() if vs.api_key else None
        return QdrantStore.remote(vs.url, key, vs.timeout_s, vs.collection_prefix)
    _refuse_other_engine(settings.qdrant_path, vs.embedded_engine, vs.collection_prefix)
    if vs.embedded_engine == "edge":
        from enclave_core.vectorstore.edge import EdgeStore  # imports the Rust engine only when chosen

        return EdgeStore(settings.qdrant_path, vs.collection_prefix)
    return QdrantStore.embedded(settings.qdrant_path, vs.collection_prefix)


def _refuse_other_engine(path: Path, engine: str, prefix: str) -> None:
    """Opening one engine's files with the other would show an empty store (and then mix both)."""
    if not path.is_dir():
        return
    local_files = (path / "meta.json").exists() or (path / "collection").is_dir()
    edge_files = any(p.is_dir() and p.name.startswith(prefix) for p in path.iterdir())
    other = "local" if engine == "edge" and local_files else "edge" if engine == "local" and edge_files else None
    if other:
        raise PolicyError(
            f"{path} holds a vector store written by the '{other}' embedded engine, but "
            f"vector_store.embedded_engine is '{engine}': set it back, or re-ingest into a new data directory"
        )

"""Vector store: one interface, Qdrant behind it (server when QDRANT_URL is set, else embedded:
qdrant-edge or qdrant-client local mode, as ``vector_store.embedded_engine`` says)."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from enclave_core.errors import PolicyError
from enclave_core.settings import Settings
from enclave_core.vectorstore.base import AccessScope, Hit, PointRecord, VectorStore
from enclave_core.vectorstore.names import StoreLocked

if TYPE_CHECKING:
    from enclave_core.vectorstore.qdrant import QdrantStore

__all__ = ["AccessScope", "Hit", "PointRecord", "QdrantStore", "StoreLocked", "VectorStore", "build_store"]


def __getattr__(name: str) -> Any:
    """``QdrantStore`` on first use: qdrant-client takes seconds to import, and the default engine
    (qdrant-edge) never needs it."""
    if name == "QdrantStore":
        from enclave_core.vectorstore.qdrant import QdrantStore

        return QdrantStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_store(settings: Settings) -> VectorStore:
    vs = settings.vector_store
    if vs.url:
        from enclave_core.vectorstore.qdrant import QdrantStore

        key = vs.api_key.get_secret_value() if vs.api_key else None
        return QdrantStore.remote(vs.url, key, vs.timeout_s, vs.collection_prefix)
    engine = _embedded_engine(settings)
    if engine == "edge":
        from enclave_core.vectorstore.edge import EdgeStore  # imports the Rust engine only when chosen

        return EdgeStore(settings.qdrant_path, vs.collection_prefix, min_free_bytes=vs.min_free_mb << 20)
    from enclave_core.vectorstore.qdrant import QdrantStore

    return QdrantStore.embedded(settings.qdrant_path, vs.collection_prefix)


def _embedded_engine(settings: Settings) -> str:
    """The engine for the data directory: the configured one, or with ``auto`` the one whose files
    are there (so an upgrade keeps a store written by local mode), edge for a new directory."""
    vs = settings.vector_store
    found = _engine_of_files(settings.qdrant_path, vs.collection_prefix)
    if vs.embedded_engine == "auto":
        return found or "edge"
    if found and found != vs.embedded_engine:
        # Opening one engine's files with the other would show an empty store (and then mix both).
        raise PolicyError(
            f"{settings.qdrant_path} holds a vector store written by the '{found}' embedded engine, but "
            f"vector_store.embedded_engine is '{vs.embedded_engine}': set it back (or to auto), or re-ingest "
            "into a new data directory"
        )
    return vs.embedded_engine


def _engine_of_files(path: Path, prefix: str) -> str | None:
    if not path.is_dir():
        return None
    if (path / "meta.json").exists() or (path / "collection").is_dir():
        return "local"
    if any(p.is_dir() and p.name.startswith(prefix) for p in path.iterdir()):
        return "edge"
    return None

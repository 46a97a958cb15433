"""The vector-store interface the rest of the product codes against."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from enclave_core.embedding.base import Vectors
from enclave_core.embedding.sparse import SparseVector

__all__ = ["AccessScope", "Hit", "PointRecord", "VectorStore", "any_readable"]


@dataclass(frozen=True)
class AccessScope:
    """What a search may see, derived on the server from the authenticated identity alone.

    ``groups is None`` means unrestricted (administrators); otherwise a chunk matches when
    its ``acl`` payload shares at least one group. An empty ACL therefore matches nobody
    but administrators.
    """

    groups: frozenset[str] | None
    doc_ids: frozenset[str] | None = None  # optional narrowing to some documents

    @classmethod
    def unrestricted(cls) -> AccessScope:
        return cls(groups=None)


@dataclass
class PointRecord:
    id: str
    dense: Vectors
    sparse: SparseVector
    payload: dict[str, Any]


@dataclass
class Hit:
    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


class VectorStore(Protocol):
    def collection_exists(self, name: str) -> bool: ...

    def ensure_collection(self, name: str, dimension: int, metadata: dict[str, Any] | None = None) -> None:
        """Create the collection if missing, with ``metadata`` (JSON values); an existing one is left as is."""
        ...

    def collection_metadata(self, name: str) -> dict[str, Any]:
        """What the collection was created with (e.g. its embedding model); {} for older collections."""
        ...

    def update_collection_metadata(self, name: str, metadata: dict[str, Any]) -> None:
        """Merge ``metadata`` into the collection's metadata."""
        ...

    def list_collections(self) -> list[str]: ...

    def delete_collection(self, name: str) -> None: ...

    def upsert(self, name: str, points: Sequence[PointRecord]) -> None: ...

    def delete_points(self, name: str, ids: Sequence[str]) -> None: ...

    def document_point_ids(self, name: str, doc_id: str) -> set[str]: ...

    def set_document_payload(self, name: str, doc_id: str, payload: dict[str, Any]) -> None: ...

    def count(self, name: str, scope: AccessScope | None = None) -> int:
        """Points in the collection, or only those the scope lets through (exact)."""
        ...

    def iter_points(self, name: str) -> Iterator[Hit]:
        """Every point (id and payload, score 0): for erasure scans and exports."""
        ...

    def compact(self, name: str) -> None:
        """Make deleted data unrecoverable from the store's files where the engine allows it."""
        ...

    def search(
        self,
        name: str,
        dense: Vectors | None,
        sparse: SparseVector | None,
        scope: AccessScope,
        limit: int,
    ) -> tuple[list[Hit], list[Hit]]:
        """Dense and sparse candidates, each ranked by its own score, both filtered by ``scope``."""
        ...

    def check(self) -> None:
        """Raise DependencyUnavailable if the store cannot answer."""
        ...

    def close(self) -> None: ...


def any_readable(store: VectorStore | Any, name: str, scope: AccessScope) -> bool:
    """Whether ``scope`` lets at least one point of ``name`` through.

    Why: the read path asks this on every search (is the collection visible? may the caller read a
    document a pseudonym comes from?), and an exact filtered count visits every readable point,
    a cost that grows with the collection; ``any_point(name, scope)`` of the Qdrant stores stops at
    the first one. Stores without it (test doubles, the ingest worker's proxy) answer by counting."""
    probe = getattr(store, "any_point", None)
    if probe is not None:
        return bool(probe(name, scope))
    return int(store.count(name, scope)) > 0

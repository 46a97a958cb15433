"""Qdrant through qdrant-client: the server (production) or the embedded local mode (default)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient, models

from enclave_core.embedding.base import Vectors
from enclave_core.embedding.sparse import SparseVector
from enclave_core.errors import DependencyUnavailable
from enclave_core.vectorstore import payload
from enclave_core.vectorstore.base import AccessScope, Hit, PointRecord
from enclave_core.vectorstore.filters import scope_filter
from enclave_core.vectorstore.names import DENSE, SPARSE, StoreLocked

__all__ = ["DENSE", "SPARSE", "QdrantStore", "StoreLocked"]

log = logging.getLogger(__name__)


class QdrantStore:
    def __init__(self, client: QdrantClient, prefix: str = "enclave_", *, remote: bool = False) -> None:
        self._client = client
        self._remote = remote
        self._prefix = prefix
        # The embedded engine is plain Python objects over SQLite: serialise access from threads.
        self._lock = threading.RLock()

    @classmethod
    def embedded(cls, path: Path, prefix: str = "enclave_") -> QdrantStore:
        path.mkdir(parents=True, exist_ok=True)
        try:
            client = QdrantClient(path=str(path))
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise StoreLocked("vector store", f"{path} is in use by another process") from exc
            raise
        return cls(client, prefix)

    @classmethod
    def remote(cls, url: str, api_key: str | None, timeout_s: float, prefix: str = "enclave_") -> QdrantStore:
        client = QdrantClient(url=url, api_key=api_key, timeout=int(max(1, timeout_s)), check_compatibility=False)
        return cls(client, prefix, remote=True)

    def _name(self, collection: str) -> str:
        return f"{self._prefix}{collection}"

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            with self._lock:
                return fn(*args, **kwargs)
        except (ConnectionError, TimeoutError, OSError) as exc:
            raise DependencyUnavailable("vector store", f"{what}: {exc.__class__.__name__}") from exc
        except Exception as exc:
            # qdrant-client wraps transport errors in its own types (ResponseHandlingException...).
            if exc.__class__.__name__ in {"ResponseHandlingException", "ConnectError", "ReadTimeout"}:
                raise DependencyUnavailable("vector store", f"{what}: {exc.__class__.__name__}") from exc
            raise

    def collection_exists(self, name: str) -> bool:
        return bool(self._call("collection_exists", self._client.collection_exists, self._name(name)))

    def ensure_collection(self, name: str, dimension: int, metadata: dict[str, Any] | None = None) -> None:
        if self.collection_exists(name):
            return
        self._call(
            "create_collection",
            self._client.create_collection,
            self._name(name),
            vectors_config={DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            metadata=metadata or None,
        )
        # Keyword indexes make the ACL filter cheap on the server; the embedded engine has none.
        for field in payload.INDEXED_KEYWORDS if self._remote else ():
            self._call(
                "create_payload_index",
                self._client.create_payload_index,
                self._name(name),
                field_name=field,
                field_schema=models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD),
            )

    def collection_metadata(self, name: str) -> dict[str, Any]:
        info = self._call("get_collection", self._client.get_collection, self._name(name))
        return dict(info.config.metadata or {})

    def update_collection_metadata(self, name: str, metadata: dict[str, Any]) -> None:
        self._call("update_collection", self._client.update_collection, self._name(name), metadata=metadata)

    def list_collections(self) -> list[str]:
        found = self._call("get_collections", self._client.get_collections).collections
        return sorted(c.name[len(self._prefix) :] for c in found if c.name.startswith(self._prefix))

    def delete_collection(self, name: str) -> None:
        self._call("delete_collection", self._client.delete_collection, self._name(name))

    def upsert(self, name: str, points: Sequence[PointRecord]) -> None:
        if not points:
            return
        structs = [
            models.PointStruct(
                id=p.id,
                vector={
                    DENSE: p.dense.tolist(),
                    SPARSE: models.SparseVector(indices=p.sparse.indices, values=p.sparse.values),
                },
                payload=p.payload,
            )
            for p in points
        ]
        self._call("upsert", self._client.upsert, self._name(name), points=structs, wait=True)

    def delete_points(self, name: str, ids: Sequence[str]) -> None:
        if ids:
            selector = models.PointIdsList(points=list(ids))
            self._call("delete", self._client.delete, self._name(name), points_selector=selector, wait=True)

    def _doc_filter(self, doc_id: str) -> models.Filter:
        return models.Filter(must=[models.FieldCondition(key=payload.DOC_ID, match=models.MatchValue(value=doc_id))])

    def document_point_ids(self, name: str, doc_id: str) -> set[str]:
        ids: set[str] = set()
        offset = None
        while True:
            points, offset = self._call(
                "scroll",
                self._client.scroll,
                self._name(name),
                scroll_filter=self._doc_filter(doc_id),
                limit=256,
                offset=offset,
                with_payload=False,
                with_vectors=False,
            )
            ids.update(str(p.id) for p in points)
            if offset is None:
                return ids

    def set_document_payload(self, name: str, doc_id: str, values: dict[str, Any]) -> None:
        self._call(
            "set_payload",
            self._client.set_payload,
            self._name(name),
            payload=values,
            points=models.FilterSelector(filter=self._doc_filter(doc_id)),
            wait=True,
        )

    def iter_points(self, name: str) -> Iterator[Hit]:
        offset = None
        while True:
            points, offset = self._call(
                "scroll",
                self._client.scroll,
                self._name(name),
                limit=256,
                offset=offset,
                with_payload=True,
                with_vectors=False,
            )
            for p in points:
                yield Hit(str(p.id), 0.0, dict(p.payload or {}))
            if offset is None:
                return

    def compact(self, name: str) -> None:
        """The embedded engine keeps points in SQLite, whose free pages still hold deleted rows
        until VACUUM; erasure must not leave them there. (The server compacts on its own.)"""
        if self._remote:
            return
        local = getattr(self._client, "_client", None)
        collection = getattr(local, "collections", {}).get(self._name(name))
        persistence = getattr(collection, "storage", None)
        connection = getattr(persistence, "storage", None)
        if connection is not None:
            with self._lock:
                connection.execute("VACUUM")

    def count(self, name: str, scope: AccessScope | None = None) -> int:
        flt = scope_filter(scope) if scope is not None else None
        return int(self._call("count", self._client.count, self._name(name), count_filter=flt, exact=True).count)

    def any_point(self, name: str, scope: AccessScope) -> bool:
        if scope.groups is not None and not scope.groups:
            return False  # no group at all: nothing is readable (as search)
        points, _ = self._call(
            "scroll",
            self._client.scroll,
            self._name(name),
            scroll_filter=scope_filter(scope),
            limit=1,
            with_payload=False,
            with_vectors=False,
        )
        return bool(points)

    def search(
        self,
        name: str,
        dense: Vectors | None,
        sparse: SparseVector | None,
        scope: AccessScope,
        limit: int,
    ) -> tuple[list[Hit], list[Hit]]:
        if scope.groups is not None and not scope.groups:
            return [], []  # no group at all: nothing is readable, whatever the stored ACLs say
        flt = scope_filter(scope)
        requests: list[models.QueryRequest] = []
        if dense is not None:
            requests.append(
                models.QueryRequest(query=dense.tolist(), using=DENSE, filter=flt, limit=limit, with_payload=True)
            )
        if sparse is not None and sparse.indices:
            requests.append(
                models.QueryRequest(
                    query=models.SparseVector(indices=sparse.indices, values=sparse.values),
                    using=SPARSE,
                    filter=flt,
                    limit=limit,
                    with_payload=True,
                )
            )
        results = self._call("query_batch", self._client.query_batch_points, self._name(name), requests)
        lists = [[Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in r.points] for r in results]
        dense_hits = lists.pop(0) if dense is not None else []
        sparse_hits = lists.pop(0) if lists else []
        return dense_hits, sparse_hits

    def check(self) -> None:
        self._call("get_collections", self._client.get_collections)

    def close(self) -> None:
        self._client.close()

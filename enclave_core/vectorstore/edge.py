"""Embedded vector store over qdrant-edge: Qdrant's own Rust engine, in-process.

Why: qdrant-client's local mode is pure Python (a filtered search costs ~100 ms at 10k points and
grows linearly); qdrant-edge runs the server's segment, HNSW, sparse-index and payload-index code
in-process, so the appliance keeps Qdrant semantics (cosine, sparse IDF modifier, payload filters
inside the search) at server speed without a server. One shard directory per collection.

Results match ``QdrantStore`` (same ids and order, scores within float error): both engines compute
IDF as ``ln(1 + (N - df + 0.5) / (df + 0.5))``, and equal scores are ordered by id here and in the
Retriever, so every backend returns the same ranking (tests/unit/test_store_congruence.py).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from enclave_core.embedding.base import Vectors
from enclave_core.embedding.sparse import SparseVector
from enclave_core.errors import DependencyUnavailable
from enclave_core.vectorstore import payload
from enclave_core.vectorstore.base import AccessScope, Hit, PointRecord
from enclave_core.vectorstore.names import DENSE, MATCH_NOTHING_GROUP, SPARSE, StoreLocked

__all__ = ["EdgeStore", "edge_scope_filter"]

_SCROLL_PAGE = 256
DEFAULT_MIN_FREE = 64 << 20
METADATA_FILE = "enclave_collection.json"


def edge_scope_filter(scope: AccessScope) -> qe.Filter | None:
    """The qdrant-edge twin of ``filters.scope_filter`` (same semantics, the engine's own types)."""
    must: list[Any] = []
    if scope.groups is not None:
        groups = sorted(scope.groups) or [MATCH_NOTHING_GROUP]
        must.append(qe.FieldCondition(key=payload.ACL, match=qe.MatchAny(any=groups)))
    if scope.doc_ids is not None:
        ids = sorted(scope.doc_ids) or [MATCH_NOTHING_GROUP]
        must.append(qe.FieldCondition(key=payload.DOC_ID, match=qe.MatchAny(any=ids)))
    return qe.Filter(must=must) if must else None


def _doc_filter(doc_id: str) -> qe.Filter:
    return qe.Filter(must=[qe.FieldCondition(key=payload.DOC_ID, match=qe.MatchValue(doc_id))])


def _hits(points: Sequence[Any]) -> list[Hit]:
    hits = [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in points]
    # Deterministic order on ties (the engine's tie order depends on segment layout).
    hits.sort(key=lambda h: (-h.score, h.id))
    return hits


class EdgeStore:
    """``VectorStore`` over qdrant-edge shards under ``root`` (``<root>/<prefix><collection>``).

    One process at a time: like qdrant-client's local mode, the store takes an exclusive lock on
    ``<root>/.lock`` (the same file and kind of lock, so ``enclave backup`` and the CLI's
    hand-over to a running gateway work alike for both engines) and raises ``StoreLocked`` when
    another process holds it.

    Full disk: the engine writes through memory maps of sparse files it sizes ahead (32 MiB WAL
    segments, vector chunks, payload pages). When the filesystem cannot back a page the kernel
    kills the process with SIGBUS; no exception reaches Python. So every write first checks that
    the free space covers what the shard's files have reserved but not yet written, plus
    ``min_free_bytes``, and otherwise raises ``OSError(ENOSPC)`` (the Qdrant server guards its
    update path the same way). The document fails alone; nothing is half-written.
    """

    def __init__(
        self,
        root: Path,
        prefix: str = "enclave_",
        *,
        max_search_threads: int | None = None,
        min_free_bytes: int = DEFAULT_MIN_FREE,
    ) -> None:
        self._root = Path(root)
        self._min_free = min_free_bytes
        self._root.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock_directory(self._root)
        self._prefix = prefix
        self._threads = max_search_threads
        self._shards: dict[str, qe.EdgeShard] = {}
        # The shard object is shared; writes and reads are serialised, which costs little at
        # sub-millisecond query times and keeps the engine's single-writer assumption safe.
        self._lock = threading.RLock()

    def _path(self, name: str) -> Path:
        return self._root / f"{self._prefix}{name}"

    def _shard(self, name: str) -> qe.EdgeShard:
        with self._lock:
            shard = self._shards.get(name)
            if shard is None:
                path = self._path(name)
                if not path.is_dir():
                    raise KeyError(name)
                try:
                    shard = qe.EdgeShard.load(str(path))
                except Exception as exc:  # the engine raises plain exceptions for I/O and lock errors
                    raise DependencyUnavailable("vector store", f"cannot open {path.name}: {exc}") from exc
                self._shards[name] = shard
            return shard

    def _config(self, dimension: int) -> qe.EdgeConfig:
        return qe.EdgeConfig(
            vectors={DENSE: qe.EdgeVectorParams(size=dimension, distance=qe.Distance.Cosine)},
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            # Vacuum any segment with deletions when optimize() runs (compact, erasure): deleted
            # chunks must not stay readable in segment files nor count in the sparse IDF.
            optimizers=qe.EdgeOptimizersConfig(deleted_threshold=0.0001, vacuum_min_vector_number=1),
            max_search_threads=self._threads,
        )

    def collection_exists(self, name: str) -> bool:
        with self._lock:
            return name in self._shards or self._path(name).is_dir()

    def ensure_collection(self, name: str, dimension: int, metadata: dict[str, Any] | None = None) -> None:
        with self._lock:
            if self.collection_exists(name):
                return
            self._ensure_room(None)
            shard = qe.EdgeShard.create(str(self._path(name)), self._config(dimension))
            # Keyword indexes: the ACL filter and document operations hit them on every request.
            for field in payload.INDEXED_KEYWORDS:
                shard.update(qe.UpdateOperation.create_field_index(field, qe.PayloadSchemaType.Keyword))
            self._shards[name] = shard
            if metadata:
                self._write_metadata(name, metadata)

    # The engine has no collection metadata: a JSON file inside the shard's directory stands in, so
    # that deleting, backing up or restoring the shard carries it along.
    def _metadata_path(self, name: str) -> Path:
        return self._path(name) / METADATA_FILE

    def _write_metadata(self, name: str, metadata: dict[str, Any]) -> None:
        tmp = self._metadata_path(name).with_suffix(".tmp")
        tmp.write_text(json.dumps(metadata, sort_keys=True), encoding="utf-8")
        tmp.replace(self._metadata_path(name))

    def collection_metadata(self, name: str) -> dict[str, Any]:
        with self._lock:
            if not self.collection_exists(name):
                raise KeyError(name)
            path = self._metadata_path(name)
            return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else {}

    def update_collection_metadata(self, name: str, metadata: dict[str, Any]) -> None:
        with self._lock:
            self._write_metadata(name, self.collection_metadata(name) | metadata)

    def list_collections(self) -> list[str]:
        with self._lock:
            dirs = [p.name for p in self._root.iterdir() if p.is_dir()]
            names = {d[len(self._prefix) :] for d in dirs if d.startswith(self._prefix)}
            return sorted(n for n in names | set(self._shards) if self._path(n).is_dir())

    def delete_collection(self, name: str) -> None:
        with self._lock:
            shard = self._shards.pop(name, None)
            if shard is not None:
                shard.close()
            shutil.rmtree(self._path(name), ignore_errors=True)

    def upsert(self, name: str, points: Sequence[PointRecord]) -> None:
        if not points:
            return
        structs = [
            qe.Point(
                p.id,
                {
                    DENSE: [float(x) for x in p.dense.tolist()],
                    SPARSE: qe.SparseVector(list(p.sparse.indices), [float(v) for v in p.sparse.values]),
                },
                p.payload,
            )
            for p in points
        ]
        with self._lock:
            self._ensure_room(name)
            self._shard(name).update(qe.UpdateOperation.upsert_points(structs))

    def delete_points(self, name: str, ids: Sequence[str]) -> None:
        if ids:
            with self._lock:
                self._ensure_room(name)
                self._shard(name).update(qe.UpdateOperation.delete_points(list(ids)))

    def document_point_ids(self, name: str, doc_id: str) -> set[str]:
        ids: set[str] = set()
        offset: Any = None
        with self._lock:
            shard = self._shard(name)
            while True:
                records, offset = shard.scroll(
                    qe.ScrollRequest(offset=offset, limit=_SCROLL_PAGE, filter=_doc_filter(doc_id), with_payload=False)
                )
                ids.update(str(r.id) for r in records)
                if offset is None:
                    return ids

    def set_document_payload(self, name: str, doc_id: str, values: dict[str, Any]) -> None:
        with self._lock:
            self._ensure_room(name)
            self._shard(name).update(qe.UpdateOperation.set_payload_by_filter(_doc_filter(doc_id), values))

    def iter_points(self, name: str) -> Iterator[Hit]:
        offset: Any = None
        while True:
            with self._lock:
                records, offset = self._shard(name).scroll(
                    qe.ScrollRequest(offset=offset, limit=_SCROLL_PAGE, with_payload=True)
                )
            for r in records:
                yield Hit(str(r.id), 0.0, dict(r.payload or {}))
            if offset is None:
                return

    def compact(self, name: str) -> None:
        """Vacuum segments holding deleted points (see ``_config``) and flush them to disk."""
        with self._lock:
            self._ensure_room(name, rewrite=True)
            shard = self._shard(name)
            shard.optimize()
            shard.flush()

    def count(self, name: str, scope: AccessScope | None = None) -> int:
        flt = edge_scope_filter(scope) if scope is not None else None
        with self._lock:
            return int(self._shard(name).count(qe.CountRequest(exact=True, filter=flt)))

    def any_point(self, name: str, scope: AccessScope) -> bool:
        if scope.groups is not None and not scope.groups:
            return False  # no group at all: nothing is readable (as search)
        request = qe.ScrollRequest(limit=1, filter=edge_scope_filter(scope), with_payload=False)
        with self._lock:
            records, _ = self._shard(name).scroll(request)
        return bool(records)

    def search(
        self,
        name: str,
        dense: Vectors | None,
        sparse: SparseVector | None,
        scope: AccessScope,
        limit: int,
    ) -> tuple[list[Hit], list[Hit]]:
        if scope.groups is not None and not scope.groups:
            return [], []  # no group at all: nothing is readable (as QdrantStore)
        flt = edge_scope_filter(scope)
        requests: list[qe.QueryRequest] = []
        if dense is not None:
            query = qe.Query.Nearest([float(x) for x in dense.tolist()], using=DENSE)
            requests.append(qe.QueryRequest(limit=limit, query=query, filter=flt, with_payload=True))
        if sparse is not None and sparse.indices:
            vector = qe.SparseVector(list(sparse.indices), [float(v) for v in sparse.values])
            query = qe.Query.Nearest(vector, using=SPARSE)
            requests.append(qe.QueryRequest(limit=limit, query=query, filter=flt, with_payload=True))
        if not requests:
            return [], []
        with self._lock:
            results = self._shard(name).query_batch(qe.QueryBatchRequest(requests))
        lists = [_hits(r) for r in results]
        dense_hits = lists.pop(0) if dense is not None else []
        sparse_hits = lists.pop(0) if lists else []
        return dense_hits, sparse_hits

    def optimize(self, name: str) -> bool:
        """Merge segments and build the HNSW and payload indexes now (blocking); call after bulk loads."""
        with self._lock:
            self._ensure_room(name, rewrite=True)
            return bool(self._shard(name).optimize())

    def _ensure_room(self, name: str | None, *, rewrite: bool = False) -> None:
        """Raise ENOSPC unless a write cannot fault on an unbacked page (see the class docstring).

        ``rewrite``: the optimizer copies the shard into new segments, so its written size counts too.
        """
        st = os.statvfs(self._root)
        free = st.f_bavail * st.f_frsize
        reserved, written = _file_space(self._path(name)) if name is not None else (0, 0)
        needed = reserved + self._min_free + (written if rewrite else 0)
        if free < needed:
            raise OSError(
                errno.ENOSPC,
                f"No space left on device: the vector store needs {needed >> 20} MiB free to write "
                f"safely, {free >> 20} MiB are",
            )

    def check(self) -> None:
        try:
            self._root.stat()
        except OSError as exc:
            raise DependencyUnavailable("vector store", f"{self._root}: {exc.strerror}") from exc

    def close(self) -> None:
        with self._lock:
            for shard in self._shards.values():
                shard.close()
            self._shards.clear()
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # releases the directory lock
                self._lock_fd = None


def _file_space(folder: Path) -> tuple[int, int]:
    """(bytes sized but not yet backed by disk blocks, bytes backed) over the files under ``folder``."""
    reserved = written = 0
    for dirpath, _dirs, files in os.walk(folder):
        for fname in files:
            try:
                st = os.stat(os.path.join(dirpath, fname))
            except FileNotFoundError:  # the engine may rotate a file meanwhile
                continue
            backed = st.st_blocks * 512
            written += backed
            reserved += max(0, st.st_size - backed)
    return reserved, written


def _lock_directory(root: Path) -> int | None:
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise StoreLocked("vector store", f"{root} is in use by another process") from exc
    return fd

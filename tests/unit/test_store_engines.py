"""Choosing the embedded engine: ``vector_store.embedded_engine`` builds the right store, each engine
locks its directory against a second process, and a data directory written by one engine is not
silently opened (as an empty store) by the other."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import numpy as np
import pytest

from enclave_core.embedding.sparse import SparseVector
from enclave_core.errors import PolicyError
from enclave_core.settings import load_settings
from enclave_core.vectorstore import StoreLocked, build_store
from enclave_core.vectorstore.base import AccessScope, PointRecord
from enclave_core.vectorstore.edge import EdgeStore, _file_space
from enclave_core.vectorstore.qdrant import QdrantStore


def _settings(tmp_path: Path, engine: str):  # type: ignore[no-untyped-def]
    return load_settings({"ENCLAVE_DATA_DIR": str(tmp_path), "ENCLAVE_VECTOR_STORE__EMBEDDED_ENGINE": engine})


def _point(i: int) -> PointRecord:
    dense = np.zeros(4, dtype=np.float32)
    dense[i % 4] = 1.0
    return PointRecord(
        f"00000000-0000-0000-0000-00000000000{i}", dense, SparseVector([i], [1.0]), {"doc_id": "d", "acl": ["*"]}
    )


@pytest.mark.parametrize(("engine", "kind"), [("local", QdrantStore), ("edge", EdgeStore)])
def test_engine_setting_builds_that_store(tmp_path: Path, engine: str, kind: type) -> None:
    store = build_store(_settings(tmp_path, engine))
    try:
        assert isinstance(store, kind)
        store.ensure_collection("docs", 4)
        store.upsert("docs", [_point(1), _point(2)])
        dense, _ = store.search("docs", np.array([0, 1, 0, 0], dtype=np.float32), None, AccessScope.unrestricted(), 5)
        assert dense[0].id.endswith("1")
        assert store.list_collections() == ["docs"]
    finally:
        store.close()


def test_edge_store_is_one_process_at_a_time(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "edge")
    first = build_store(settings)
    with pytest.raises(StoreLocked, match="in use by another process"):
        build_store(settings)
    first.close()
    again = build_store(settings)  # the lock goes with close()
    again.close()


@pytest.mark.parametrize(("written_by", "opened_with"), [("local", "edge"), ("edge", "local")])
def test_other_engines_files_are_refused(tmp_path: Path, written_by: str, opened_with: str) -> None:
    store = build_store(_settings(tmp_path, written_by))
    store.ensure_collection("docs", 4)
    store.upsert("docs", [_point(1)])
    store.close()
    with pytest.raises(PolicyError, match=f"written by the '{written_by}' embedded engine"):
        build_store(_settings(tmp_path, opened_with))


@pytest.mark.parametrize(("written_by", "expected"), [(None, EdgeStore), ("local", QdrantStore), ("edge", EdgeStore)])
def test_auto_opens_the_engine_whose_files_are_there(tmp_path: Path, written_by: str | None, expected: type) -> None:
    """The default (auto): qdrant-edge for a new data directory; an existing store keeps its engine
    (an upgrade from a release whose default was local mode must not hide the documents)."""
    if written_by:
        store = build_store(_settings(tmp_path, written_by))
        store.ensure_collection("docs", 4)
        store.upsert("docs", [_point(1)])
        store.close()
    store = build_store(_settings(tmp_path, "auto"))
    try:
        assert isinstance(store, expected)
        if written_by:
            assert store.count("docs") == 1
    finally:
        store.close()


def test_edge_refuses_a_write_the_disk_could_not_back(tmp_path: Path) -> None:
    """A memory-mapped write on a full disk is a SIGBUS; the store must refuse it with ENOSPC first
    (the real full disk: tests/integration/test_full_disk.py). Here the reserve is set beyond any disk."""
    store = EdgeStore(tmp_path / "edge")
    store.ensure_collection("docs", 4)
    store.upsert("docs", [_point(1)])
    store.close()
    free = shutil.disk_usage(tmp_path).free
    cramped = EdgeStore(tmp_path / "edge", min_free_bytes=free + (1 << 30))
    try:
        with pytest.raises(OSError, match="No space left on device: the vector store needs") as info:
            cramped.upsert("docs", [_point(2)])
        assert info.value.errno == errno.ENOSPC
        for write in (
            lambda: cramped.delete_points("docs", [_point(1).id]),
            lambda: cramped.set_document_payload("docs", "d", {"acl": ["x"]}),
            lambda: cramped.compact("docs"),
            lambda: cramped.ensure_collection("more", 4),
        ):
            with pytest.raises(OSError, match="No space left"):
                write()
        assert cramped.count("docs") == 1  # reads still work, nothing changed
        assert not cramped.collection_exists("more")
    finally:
        cramped.close()


def test_edge_counts_space_its_files_reserve_but_have_not_written(tmp_path: Path) -> None:
    """A new shard's files are sized ahead but sparse: that difference must be free before a write."""
    store = EdgeStore(tmp_path / "edge", min_free_bytes=0)
    try:
        store.ensure_collection("docs", 4)
        reserved, written = _file_space(tmp_path / "edge" / "enclave_docs")
        assert reserved > 16 << 20 > written  # tens of MiB sized ahead, little written
    finally:
        store.close()

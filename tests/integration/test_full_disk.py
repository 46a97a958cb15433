"""A full disk during ingest, on a real size-limited filesystem (tmpfs, mounted by the test; root
only): the files that do not fit fail alone with a clear message, nothing already written is
damaged (audit chain, vault, keys, manifest consistent with the store), and when space returns
the same ingest picks up exactly the files that failed. Both embedded engines: qdrant-edge, whose
memory-mapped writes would die with SIGBUS on a full disk, must refuse them beforehand instead.

The data directory is the only thing on the small filesystem; the models and the source files
live elsewhere. A ballast file leaves a little room after a first document, so the disk fills
within a few documents instead of after megabytes of embeddings.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from enclave_cli.backend import LocalBackend
from enclave_core.audit import AuditLog
from enclave_core.errors import EnclaveError
from enclave_core.keys import KeyStore
from enclave_core.runtime import Core
from enclave_core.settings import Settings
from ingest import Ingestor
from tests.conftest import make_settings

COLLECTION = "archive"
ROOM_KB = 96  # free space left after the first document
WORDS = [
    "policy",
    "review",
    "budget",
    "travel",
    "laptop",
    "contract",
    "supplier",
    "meeting",
    "report",
    "schedule",
    "invoice",
    "training",
]


def _mount(point: Path, size: str) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(point)], check=True)


# Sizes per engine: qdrant-edge sizes its files ahead (sparse, ~150 MiB for a new collection) and
# refuses a write unless the disk could back them, so its filesystem must hold that much.
FS_SIZES = {"local": ("8m", "64m"), "edge": ("320m", "512m")}


@pytest.fixture(params=["local", "edge"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def small_fs(tmp_path: Path, engine: str) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root")
    point = tmp_path / "small"
    point.mkdir()
    try:
        _mount(point, FS_SIZES[engine][0])
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        pytest.skip(f"cannot mount a tmpfs here ({exc}); run as root with CAP_SYS_ADMIN")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def _free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _fill(point: Path, leave: int) -> Path:
    ballast = point / "ballast"
    with open(ballast, "ab") as fh:
        while (free := _free_bytes(point)) > leave:
            try:
                fh.write(b"\0" * min(free - leave, 1 << 20))
                fh.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    return ballast


def _documents(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        words = " ".join(WORDS[(n * 7 + i) % len(WORDS)] + ("." if i % 12 == 11 else "") for i in range(700))
        path = folder / f"doc-{n:02d}.md"
        path.write_text(f"# Document {n}\n\nContact Alex Morgan{n} for details. {words}\n", encoding="utf-8")
        paths.append(path)
    return paths


def _core(settings: Settings, embedder: Any, redactor: Any) -> Core:
    core = Core(settings)
    core.__dict__["embedder"] = embedder
    core.__dict__["redactor"] = redactor
    return core


def _ingest(backend: LocalBackend, paths: list[Path]) -> tuple[dict[str, Any] | None, str | None]:
    """What ``enclave ingest`` does in-process: a report, or the one-line error the CLI prints."""
    try:
        return backend.ingest(paths, COLLECTION, ["staff"], False, lambda outcome: None), None
    except EnclaveError as exc:
        return None, f"error: {exc}"


def _assert_consistent(core: Core, settings: Settings) -> set[str]:
    """Every stored point belongs to a committed document or to one recorded as pending; every
    committed document has all its points; the audit chain, the vault and the keys are intact."""
    manifest = Ingestor(core).manifest
    try:
        committed = {d.doc_id: set(d.chunk_ids) for d in manifest.documents(COLLECTION)}
        stored: dict[str, set[str]] = {}
        for hit in core.store.iter_points(COLLECTION):
            stored.setdefault(hit.payload["doc_id"], set()).add(hit.id)
        for doc_id, ids in committed.items():
            assert stored.get(doc_id) == ids, f"committed document {doc_id} is missing points"
        for doc_id, ids in stored.items():
            if doc_id not in committed:
                assert ids <= manifest.pending(COLLECTION, doc_id), f"orphan points of {doc_id}"
    finally:
        manifest.close()
    verified = AuditLog(settings.audit_dir, settings.audit_signing_key).verify()
    assert verified.ok, f"audit chain broken: {verified.reason} at {verified.first_bad}"
    core.vault.reveal(COLLECTION, "<PERSON_1>")  # decrypts, or raises VaultError
    KeyStore(settings.secrets_dir / "api-keys.json").list()
    return set(committed)


def test_full_disk_fails_files_cleanly_and_resumes_when_space_returns(
    small_fs: Path, tmp_path: Path, engine: str, embedder: Any, redactor: Any
) -> None:
    settings = make_settings(small_fs / "data", ENCLAVE_VECTOR_STORE__EMBEDDED_ENGINE=engine)
    KeyStore(settings.secrets_dir / "api-keys.json").create("alice", ["staff"], [])
    paths = _documents(tmp_path / "src", 8)
    core = _core(settings, embedder, redactor)
    backend = LocalBackend(core)
    try:
        first, error = _ingest(backend, paths[:1])
        assert error is None and first is not None and first["ingested"] == 1

        ballast = _fill(small_fs, ROOM_KB << 10)
        report, error = _ingest(backend, paths)
        failed = [] if report is None else [f for f in report["files"] if f["status"] == "failed"]
        assert error is not None or failed, "the disk never filled up: lower ROOM_KB"
        for f in failed:
            assert f["error"] and "Traceback" not in f["error"]
            assert any(s in f["error"].lower() for s in ("no space", "disk is full", "disk full")), f["error"]
        if error is not None:
            assert "space" in error.lower() or "disk" in error.lower(), error
        committed = _assert_consistent(core, settings)
        assert len(committed) < len(paths)

        # Space comes back: the same command ingests what is missing, and only that.
        ballast.unlink()
        subprocess.run(["mount", "-o", f"remount,size={FS_SIZES[engine][1]}", str(small_fs)], check=True)
        again, error = _ingest(backend, paths)
        assert error is None and again is not None, error
        statuses = {f["source"]: f["status"] for f in again["files"]}
        assert all(s in ("ingested", "unchanged") for s in statuses.values()), again["files"]
        assert sum(s == "unchanged" for s in statuses.values()) == len(committed)
        assert _assert_consistent(core, settings) == {f["doc_id"] for f in again["files"]}
        hits = backend.search("Contact Alex Morgan7 for details", COLLECTION, 3, None)["citations"]
        assert hits and hits[0]["source"] == "doc-07.md"
    finally:
        backend.close()

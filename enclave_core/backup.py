"""``enclave backup`` / ``enclave restore``: the data directory's durable state as one archive.

What goes in (everything else under the data directory - logs, caches - is rebuilt or not
worth keeping):

============== ==============================================================================
``qdrant/``    the embedded vector store (with ``QDRANT_URL`` set the vectors live on the
               Qdrant server: take a server snapshot at the same time; the manifest says so)
``state/``     the ingest manifest, the job journal and its encrypted staged uploads
``audit/``     the hash-chained audit log, its signed head and checkpoints
``vault/``     the encrypted pseudonym vaults
``secrets/``   API key hashes, the local admin key, the vault, audit-signing and conversation
               keys: **the archive is as sensitive as the appliance itself**; it is written
               0600 - keep it encrypted and offline
``conversations/`` saved chat history (encrypted with ``secrets/conversations.key``)
============== ==============================================================================

Consistency: the copy is taken while holding the audit log's file lock (no record can be
appended half-way through) and, for the embedded store, the store's own lock - so a running
gateway that holds the embedded store makes the backup refuse (``StoreLocked``): stop it
first. SQLite files (manifest, journal, the embedded store's collections) are copied with
SQLite's online backup API, never as raw files with a write-ahead log beside them.

The archive is a ``.tar.gz`` with ``data/<path>`` members and ``MANIFEST.json`` (last), which
lists every file with its size, mode and SHA-256. A restore goes into an empty (or absent)
data directory only: every file is extracted into a private staging folder beside it and
checked against the manifest, and only when all of them match is the staging folder moved
into place - a damaged or tampered archive writes nothing.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from enclave_core.errors import InputError
from enclave_core.settings import Settings
from enclave_core.vectorstore import StoreLocked

__all__ = [
    "DURABLE_DIRS",
    "BackupError",
    "BackupReport",
    "RestoreReport",
    "create_backup",
    "restore_backup",
]

FORMAT = "enclave-backup/1"
MANIFEST = "MANIFEST.json"
DURABLE_DIRS = ("qdrant", "state", "audit", "vault", "secrets", "conversations")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_CHUNK = 1 << 20


class BackupError(InputError):
    """The backup cannot be taken or the archive cannot be restored; the message says why."""


@dataclass
class BackupReport:
    archive: Path
    files: int
    bytes: int
    sha256: str  # of the archive itself
    vector_store: str
    audit_records: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "archive": str(self.archive),
            "files": self.files,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "vector_store": self.vector_store,
            "audit_records": self.audit_records,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class RestoreReport:
    data_dir: Path
    files: int
    bytes: int
    created_at: str
    audit_ok: bool
    audit_records: int
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "data_dir": str(self.data_dir),
            "files": self.files,
            "bytes": self.bytes,
            "backup_created_at": self.created_at,
            "audit": {"ok": self.audit_ok, "records": self.audit_records},
            "warnings": self.warnings,
        }


# --- helpers ----------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == _SQLITE_MAGIC
    except OSError:
        return False


def _skipped(rel: PurePosixPath) -> bool:
    """Lock files, temporary files of atomic writes, SQLite side files (the database itself is
    copied through the backup API, which includes what its log holds)."""
    name = rel.name
    return (
        name == ".lock"
        or (name.startswith(".") and (name.endswith(".lock") or name.endswith(".tmp")))
        or name.endswith(("-wal", "-shm", "-journal"))
    )


@contextmanager
def _flock(path: Path, *, blocking: bool) -> Iterator[bool]:
    """An exclusive flock on ``path`` (created if absent); yields False if non-blocking and taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class _HashingReader(io.RawIOBase):
    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self.digest.update(data)
        return data


# --- backup -----------------------------------------------------------------------------------


def _archive_path(out: Path) -> Path:
    out = out.expanduser().resolve()
    if out.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = out / f"enclave-backup-{stamp}.tar.gz"
    if out.exists():
        raise BackupError(f"{out} already exists: choose another name")
    if not out.parent.is_dir():
        raise BackupError(f"{out.parent} is not a folder")
    return out


def _vector_store_mode(settings: Settings) -> str:
    return "server" if settings.vector_store.url else "embedded"


def _files(settings: Settings, out: Path) -> Iterator[tuple[PurePosixPath, Path]]:
    for top in DURABLE_DIRS:
        base = settings.data_dir / top
        if top == "qdrant" and settings.vector_store.url:
            continue  # a leftover embedded store is not what this deployment serves from
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path == out or not path.is_file() or path.is_symlink():
                continue
            rel = PurePosixPath(path.relative_to(settings.data_dir).as_posix())
            if not _skipped(rel):
                yield rel, path


def _sqlite_copy(path: Path, scratch: Path) -> Path:
    """A consistent copy of a live SQLite database (its WAL included)."""
    target = scratch / f"{len(list(scratch.iterdir()))}.sqlite"
    src = sqlite3.connect(str(path))
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


def create_backup(settings: Settings, out: Path) -> Path:
    """Write a backup archive of the data directory's durable state; returns its path.

    ``out`` is a file name or an existing folder (a timestamped name is chosen). Raises
    StoreLocked while a running gateway holds the embedded store, BackupError otherwise."""
    return create_backup_report(settings, out).archive


def create_backup_report(settings: Settings, out: Path) -> BackupReport:
    started = time.perf_counter()
    archive = _archive_path(out)
    data_dir = settings.data_dir
    if not data_dir.is_dir():
        raise BackupError(f"data directory {data_dir} does not exist")
    for top in DURABLE_DIRS:
        if (data_dir / top) in archive.parents:
            raise BackupError(f"write the backup outside {data_dir / top}")
    mode = _vector_store_mode(settings)
    partial = archive.with_name(f".{archive.name}.partial")
    entries: list[dict[str, Any]] = []
    total = 0
    with ExitStack() as stack:
        if mode == "embedded" and (data_dir / "qdrant").is_dir():
            got = stack.enter_context(_flock(data_dir / "qdrant" / ".lock", blocking=False))
            if not got:
                raise StoreLocked(
                    "vector store",
                    f"{data_dir / 'qdrant'} is open in another process (a running gateway?): "
                    "stop it, then run the backup",
                )
        # No audit record can be appended while the copy is taken (appends wait for this lock).
        stack.enter_context(_flock(settings.audit_dir / "audit.log", blocking=True))
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=".enclave-backup-", dir=archive.parent)))
        audit_records = _count_lines(settings.audit_dir / "audit.log")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                for rel, path in _files(settings, archive):
                    source = _sqlite_copy(path, scratch) if _is_sqlite(path) else path
                    stat = path.stat()
                    info = tarfile.TarInfo(f"data/{rel}")
                    info.mode = stat.st_mode & 0o777
                    info.mtime = int(stat.st_mtime)
                    with open(source, "rb") as fh:
                        info.size = os.fstat(fh.fileno()).st_size
                        reader = _HashingReader(fh)
                        tar.addfile(info, reader)
                    entries.append(
                        {"path": str(rel), "size": info.size, "mode": info.mode, "sha256": reader.digest.hexdigest()}
                    )
                    total += info.size
                manifest = _manifest(settings, mode, entries, audit_records)
                body = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode, info.mtime = len(body), 0o600, int(time.time())
                tar.addfile(info, io.BytesIO(body))
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, archive)
            _fsync_dir(archive.parent)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupReport(
        archive=archive,
        files=len(entries),
        bytes=total,
        sha256=_sha256_file(archive),
        vector_store=mode,
        audit_records=audit_records,
        seconds=time.perf_counter() - started,
    )


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def _manifest(settings: Settings, mode: str, entries: list[dict[str, Any]], audit_records: int) -> dict[str, Any]:
    store: dict[str, Any] = {"mode": mode}
    if mode == "server":
        store["note"] = (
            "the vectors live on the Qdrant server and are not in this archive: take a server "
            "snapshot (POST /collections/{name}/snapshots) together with this backup"
        )
        store["url"] = settings.vector_store.url
    outside = []
    if settings.audit.signing_key is not None and settings.data_dir not in settings.audit_signing_key.parents:
        outside.append(f"audit signing key {settings.audit_signing_key}")
    if settings.vault.key_file is not None and settings.data_dir not in settings.vault_key_file.parents:
        outside.append(f"vault key {settings.vault_key_file}")
    if os.environ.get("ENCLAVE_VAULT_KEY"):
        outside.append("vault key (ENCLAVE_VAULT_KEY)")
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "vector_store": store,
        "audit_records": audit_records,
        "not_included": outside,
        "files": entries,
    }


# --- restore ----------------------------------------------------------------------------------


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
        fh = tar.extractfile(member)
        if fh is None:
            raise KeyError(MANIFEST)
        manifest = json.loads(fh.read())
    except KeyError as exc:
        raise BackupError(f"not an Enclave backup: {MANIFEST} is missing") from exc
    except ValueError as exc:
        raise BackupError(f"{MANIFEST} is not valid JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"unsupported backup format {manifest.get('format')!r} (expected {FORMAT})")
    return manifest


def _safe_relative(name: str) -> PurePosixPath:
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or rel.parts[0] not in DURABLE_DIRS:
        raise BackupError(f"refusing archive member {name!r}")
    return rel


def _check_target(data_dir: Path) -> None:
    if data_dir.exists():
        if not data_dir.is_dir():
            raise BackupError(f"{data_dir} is not a folder")
        if any(data_dir.iterdir()):
            raise BackupError(f"{data_dir} is not empty: restore only into an empty or new data directory")


def restore_backup(archive: Path, settings: Settings) -> RestoreReport:
    """Restore ``archive`` into ``settings.data_dir``, which must be empty or absent.

    Nothing is written into the data directory unless every file matches the manifest."""
    data_dir = settings.data_dir
    archive = archive.expanduser().resolve()
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    _check_target(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.restore-", dir=data_dir.parent))
    try:
        manifest, count, total = _extract_verified(archive, staging)
        _check_target(data_dir)  # nobody started using it meanwhile
        data_dir.mkdir(mode=0o700, exist_ok=True)
        for child in sorted(staging.iterdir()):
            os.replace(child, data_dir / child.name)
        _fsync_dir(data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    warnings = []
    if manifest["vector_store"]["mode"] == "server":
        warnings.append(str(manifest["vector_store"]["note"]))
    elif settings.vector_store.url:
        warnings.append("the backup holds an embedded store, but QDRANT_URL is set: it is not used")
    warnings.extend(f"not in the backup, restore it yourself: {what}" for what in manifest.get("not_included", []))
    from enclave_core.audit import AuditEvent, AuditLog, write_event
    from enclave_core.identity import LOCAL_ADMIN

    audit = AuditLog(settings.audit_dir, settings.audit_signing_key, settings.audit.checkpoint_every)
    before = audit.verify()
    if not settings.audit_signing_key.exists():
        warnings.append(f"audit signing key {settings.audit_signing_key} is missing: restore it before new records")
    elif before.ok:
        event = AuditEvent.by(
            LOCAL_ADMIN,
            "backup.restore",
            "ok",
            via="cli",
            backup_created_at=manifest["created_at"],
            archive_sha256=_sha256_file(archive),
            files=count,
        )
        write_event(audit, event)
    verified = audit.verify()
    return RestoreReport(
        data_dir=data_dir,
        files=count,
        bytes=total,
        created_at=str(manifest["created_at"]),
        audit_ok=before.ok and verified.ok,
        audit_records=verified.records,
        warnings=warnings,
    )


def _extract_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, expected: dict[str, Any], seen: set[str], staging: Path
) -> int:
    """Extract one file into staging, checking it against its manifest entry; returns its size."""
    if not member.isfile() or not member.name.startswith("data/"):
        raise BackupError(f"refusing archive member {member.name!r} (only plain data/ files)")
    rel = _safe_relative(member.name[len("data/") :])
    entry = expected.get(str(rel))
    if entry is None or str(rel) in seen:
        raise BackupError(f"{member.name} is not in the manifest (or appears twice)")
    seen.add(str(rel))
    target = staging / rel
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    source = tar.extractfile(member)
    if source is None:
        raise BackupError(f"cannot read {member.name}")
    digest = hashlib.sha256()
    size = 0
    mode = int(entry["mode"]) & 0o777
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        while block := source.read(_CHUNK):
            digest.update(block)
            size += len(block)
            fh.write(block)
        fh.flush()
        os.fsync(fh.fileno())
    if digest.hexdigest() != entry["sha256"] or size != int(entry["size"]):
        raise BackupError(f"{member.name}: content does not match the manifest (damaged or altered)")
    os.chmod(target, mode)
    return size


def _extract_verified(archive: Path, staging: Path) -> tuple[dict[str, Any], int, int]:
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            manifest = _read_manifest(tar)
            expected = {str(e["path"]): e for e in manifest["files"]}
            seen: set[str] = set()
            total = 0
            for member in tar:
                if member.name != MANIFEST:
                    total += _extract_member(tar, member, expected, seen, staging)
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, KeyError, TypeError, ValueError) as exc:
        raise BackupError(f"{archive}: damaged archive ({exc.__class__.__name__}: {exc})") from exc
    except OSError as exc:  # disk full, permissions: nothing was moved into the data directory
        raise BackupError(f"restore failed, nothing restored: {exc}") from exc
    missing = set(expected) - seen
    if missing:
        raise BackupError(f"{len(missing)} file(s) of the manifest are missing from the archive, e.g. {min(missing)}")
    for folder in sorted(
        {p.parent for p in staging.rglob("*") if p.is_file()}, key=lambda p: len(p.parts), reverse=True
    ):
        _fsync_dir(folder)
    return manifest, len(seen), total

"""Ingestion jobs: a journal of what was asked, per-file progress, and encrypted staging of
uploaded bytes, so that a gateway killed at any moment resumes its jobs on restart.

Uploaded documents contain plaintext personal data and must survive a crash until they are
ingested, so they are staged encrypted (AES-256-GCM with the vault key, the job and file
index bound in as associated data) and deleted as soon as their document is committed.
The journal itself holds only ids, counts, error messages and file paths with their personal
data replaced ("reviews/<PERSON_3> - review.txt"); the path as uploaded, needed until the file
is ingested, is kept sealed with the same key and cleared once the file is done.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import secrets
import shutil
import sqlite3
import struct
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from enclave_core.errors import EnclaveError, InputError, NotFoundError
from enclave_core.keys import atomic_write
from enclave_core.settings import private_file
from ingest.pipeline import FileOutcome, Ingestor, SourceFile, document_id, replacement_refused

__all__ = ["JobJournal", "JobRunner", "StagedWriter", "Staging"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


_MAGIC = b"ENCSTG2\n"  # the segmented format; a file without it is one AES-GCM blob (earlier releases)
_LENGTH = struct.Struct(">I")
SEGMENT_BYTES = 1 << 20  # plaintext per sealed segment: the memory an upload in progress holds


class Staging:
    """Uploaded bytes, encrypted at rest until their document is committed.

    A staged file is a header (magic, staging id) and segments of at most ``SEGMENT_BYTES`` of
    plaintext, each sealed with AES-256-GCM under its own random nonce and bound, as associated
    data, to (staging id, file index, segment number, last-segment flag): a file cut short,
    reordered, or moved to another index does not decrypt. Files are written as they arrive
    (``writer``) and never exist in plaintext, on disk or whole in memory.

    An upload is streamed in under a fresh staging id (``new_upload``) before its job exists;
    ``adopt`` then makes the files the job's: it moves the folder and seals the staging id to
    the job id, so the files of one job cannot be passed off as another's. The folder of an
    upload that never became a job (the process was killed while it streamed in) is removed
    when a later process opens the staging area, once it has not changed for ``orphan_after_s``.
    """

    def __init__(self, directory: Path, key: bytes, orphan_after_s: float = 3600.0) -> None:
        self.directory = directory
        self._aead = AESGCM(key)
        self._sweep_orphans(orphan_after_s)

    def _sweep_orphans(self, older_than_s: float) -> None:
        if not self.directory.is_dir():
            return
        horizon = time.time() - older_than_s
        for folder in self.directory.glob("upload-*"):
            try:
                times = [p.stat().st_mtime for p in (folder, *folder.iterdir())]
            except OSError:
                continue  # another process removed it meanwhile
            if max(times) < horizon:
                shutil.rmtree(folder, ignore_errors=True)

    def _path(self, job_id: str, index: int) -> Path:
        return self.directory / job_id / f"{index}.bin"

    def new_upload(self) -> str:
        """A fresh staging id for an upload whose job does not exist yet."""
        return f"upload-{uuid.uuid4().hex}"

    def writer(self, stage_id: str, index: int) -> StagedWriter:
        return StagedWriter(self, stage_id, index)

    def put(self, job_id: str, index: int, data: bytes) -> None:
        writer = self.writer(job_id, index)
        try:
            writer.write(data)
            writer.close()
        except BaseException:
            writer.abort()
            raise

    def get(self, job_id: str, index: int) -> bytes:
        blob = self._path(job_id, index).read_bytes()
        if not blob.startswith(_MAGIC):
            return self._aead.decrypt(blob[:12], blob[12:], f"{job_id}/{index}".encode())
        if len(blob) <= len(_MAGIC):
            raise InvalidTag(f"staged file {job_id}/{index} is cut short")
        view = memoryview(blob)
        pos = len(_MAGIC) + 1 + blob[len(_MAGIC)]
        stage_id = bytes(view[len(_MAGIC) + 1 : pos]).decode("ascii", "replace")
        if stage_id != self._stage_id(job_id):
            raise InvalidTag(f"staged file {job_id}/{index} belongs to another upload")
        out = bytearray()
        segment = 0
        while True:
            if pos + _LENGTH.size + 12 > len(blob):
                raise InvalidTag(f"staged file {job_id}/{index} is cut short")
            (length,) = _LENGTH.unpack_from(blob, pos)
            nonce = bytes(view[pos + _LENGTH.size : pos + _LENGTH.size + 12])
            sealed = bytes(view[pos + _LENGTH.size + 12 : pos + _LENGTH.size + 12 + length])
            pos += _LENGTH.size + 12 + length
            final = pos >= len(blob)
            out += self._aead.decrypt(nonce, sealed, _segment_aad(stage_id, index, segment, final))
            if final:
                return bytes(out)
            segment += 1

    def adopt(self, stage_id: str, job_id: str) -> None:
        """The files staged under ``stage_id`` become job ``job_id``'s (folder renamed, then synced)."""
        source = self.directory / stage_id
        nonce = secrets.token_bytes(12)
        binding = nonce + self._aead.encrypt(nonce, stage_id.encode(), f"bind/{job_id}".encode())
        atomic_write(source / "staging-id", binding)  # also syncs the folder's entries
        source.rename(self.directory / job_id)
        _fsync_dir(self.directory)

    def _stage_id(self, job_id: str) -> str:
        path = self.directory / job_id / "staging-id"
        if not path.exists():
            return job_id
        blob = path.read_bytes()
        return self._aead.decrypt(blob[:12], blob[12:], f"bind/{job_id}".encode()).decode()

    def drop(self, job_id: str, index: int) -> None:
        self._path(job_id, index).unlink(missing_ok=True)

    def drop_job(self, job_id: str) -> None:
        shutil.rmtree(self.directory / job_id, ignore_errors=True)


def _segment_aad(stage_id: str, index: int, segment: int, final: bool) -> bytes:
    return f"{stage_id}/{index}/{segment}/{'final' if final else 'more'}".encode()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StagedWriter:
    """Encrypts one file into staging as it arrives: at most one segment of plaintext is held.

    ``close`` seals the last segment, syncs the file and moves it into place; ``abort`` removes
    what was written. ``size`` and ``sha256`` describe the plaintext written so far."""

    def __init__(self, staging: Staging, stage_id: str, index: int) -> None:
        if not 0 < len(stage_id.encode("ascii")) < 256 or "/" in stage_id:
            raise ValueError(f"invalid staging id {stage_id!r}")
        self._staging = staging
        self._stage_id = stage_id
        self._index = index
        self.path = staging._path(stage_id, index)
        self._partial = self.path.with_suffix(".part")
        staging.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(self._partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # whatever the umask
        self._file = os.fdopen(fd, "wb")
        self._file.write(_MAGIC + bytes([len(stage_id)]) + stage_id.encode("ascii"))
        self._buffer = bytearray()
        self._segment = 0
        self._hash = hashlib.sha256()
        self.size = 0
        self.closed = False

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def write(self, data: bytes) -> None:
        self._buffer += data
        self._hash.update(data)
        self.size += len(data)
        while len(self._buffer) > SEGMENT_BYTES:  # '>': the last segment is never an empty one after a full one
            self._seal(bytes(self._buffer[:SEGMENT_BYTES]), final=False)
            del self._buffer[:SEGMENT_BYTES]

    def _seal(self, plaintext: bytes, final: bool) -> None:
        nonce = secrets.token_bytes(12)
        aad = _segment_aad(self._stage_id, self._index, self._segment, final)
        sealed = self._staging._aead.encrypt(nonce, plaintext, aad)
        self._file.write(_LENGTH.pack(len(sealed)) + nonce + sealed)
        self._segment += 1

    def close(self) -> None:
        if self.closed:
            return
        self._seal(bytes(self._buffer), final=True)
        self._buffer = bytearray()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._partial, self.path)
        _fsync_dir(self.path.parent)
        self.closed = True

    def abort(self) -> None:
        """Forget a file not yet closed (a closed one stays, and goes with its job or upload)."""
        self._buffer = bytearray()
        self._file.close()
        self._partial.unlink(missing_ok=True)
        self.closed = True


@dataclass(frozen=True)
class JobFile:
    index: int
    source: str
    status: str  # queued | ingested | unchanged | failed | skipped
    doc_id: str | None
    chunks: int
    error: str | None


class JobJournal:
    def __init__(self, path: Path, key: bytes) -> None:
        self._aead = AESGCM(key)
        private_file(path)  # 0600 whatever the umask (SQLite gives its -wal/-shm files this mode)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(
            """CREATE TABLE IF NOT EXISTS jobs (
                   id TEXT PRIMARY KEY, collection TEXT NOT NULL, acl TEXT NOT NULL, principal TEXT NOT NULL,
                   status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, error TEXT);
               CREATE TABLE IF NOT EXISTS job_files (
                   job_id TEXT NOT NULL, idx INTEGER NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL,
                   doc_id TEXT, chunks INTEGER NOT NULL DEFAULT 0, error TEXT, PRIMARY KEY (job_id, idx));"""
        )
        # Columns added after the first release: journals of an older version gain them here.
        self._add_column("jobs", "may_replace", "INTEGER NOT NULL DEFAULT 0")
        self._add_column("job_files", "sealed_source", "BLOB")
        self._lock = threading.Lock()

    def _add_column(self, table: str, column: str, kind: str) -> None:
        names = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
        if column not in names:
            self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def _seal(self, job_id: str, index: int, source: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, source.encode(), f"{job_id}/{index}/source".encode())

    def _unseal(self, job_id: str, index: int, blob: bytes) -> str:
        return self._aead.decrypt(blob[:12], blob[12:], f"{job_id}/{index}/source".encode()).decode()

    def create(
        self,
        collection: str,
        acl: Sequence[str],
        principal: str,
        sources: Sequence[tuple[str, str]],
        *,
        may_replace: bool = False,
    ) -> str:
        """A queued job. ``sources``: (path as uploaded, path as shown) per file; only the shown
        form is stored in the clear. ``principal``: the uploader's ``Principal.key``."""
        job_id = uuid.uuid4().hex
        now = _now()
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO jobs (id, collection, acl, principal, status, created_at, updated_at, error, may_replace)"
                " VALUES (?, ?, ?, ?, 'queued', ?, ?, NULL, ?)",
                (job_id, collection, json.dumps(sorted(acl)), principal, now, now, int(may_replace)),
            )
            self._db.executemany(
                "INSERT INTO job_files (job_id, idx, source, status, sealed_source) VALUES (?, ?, ?, 'queued', ?)",
                [(job_id, i, shown, self._seal(job_id, i, raw)) for i, (raw, shown) in enumerate(sources)],
            )
        return job_id

    def uploaded_source(self, job_id: str, index: int) -> str:
        """The path as uploaded, while the file is still queued (None once it is done)."""
        with self._lock:
            row = self._db.execute(
                "SELECT sealed_source, source FROM job_files WHERE job_id=? AND idx=?", (job_id, index)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no file {index} in job '{job_id}'")
        return self._unseal(job_id, index, row[0]) if row[0] is not None else str(row[1])

    def set_status(self, job_id: str, status: str, error: str | None = None) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET status=?, updated_at=?, error=? WHERE id=?", (status, _now(), error, job_id)
            )

    def record_file(self, job_id: str, index: int, outcome: FileOutcome) -> None:
        """The file is done: its outcome, the path as stored, and the sealed upload path dropped."""
        with self._lock:
            self._db.execute(
                "UPDATE job_files SET status=?, doc_id=?, chunks=?, error=?, source=?, sealed_source=NULL"
                " WHERE job_id=? AND idx=?",
                (outcome.status, outcome.doc_id, outcome.chunks, outcome.error, outcome.source, job_id, index),
            )

    def forget_document(self, doc_id: str) -> int:
        """Erasure: the document's file rows keep their counts but lose path and error text."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE job_files SET source='(erased)', error=NULL, sealed_source=NULL WHERE doc_id=?", (doc_id,)
            )
        self.vacuum()
        return cur.rowcount

    def forget_text(self, value: str) -> int:
        """Erasure of a value: any path or error message that still holds it is cleared."""
        pattern = f"%{value}%"
        with self._lock:
            cur = self._db.execute(
                "UPDATE job_files SET source='(erased)', error=NULL WHERE source LIKE ? OR error LIKE ?",
                (pattern, pattern),
            )
        self.vacuum()
        return cur.rowcount

    def vacuum(self) -> None:
        """Rewrite the file (and empty the WAL) so that erased text does not linger in free pages."""
        with self._lock:
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def files(self, job_id: str) -> list[JobFile]:
        with self._lock:
            rows = self._db.execute(
                "SELECT idx, source, status, doc_id, chunks, error FROM job_files WHERE job_id=? ORDER BY idx",
                (job_id,),
            ).fetchall()
        return [JobFile(*row) for row in rows]

    def get(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            row = self._db.execute(
                "SELECT id, collection, acl, principal, status, created_at, updated_at, error, may_replace"
                " FROM jobs WHERE id=?",
                (job_id,),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no job '{job_id}'")
        files = self.files(job_id)
        done = [f for f in files if f.status != "queued"]
        return {
            "job_id": row[0],
            "collection": row[1],
            "acl": json.loads(row[2]),
            "principal": row[3],
            "status": row[4],
            "created_at": row[5],
            "updated_at": row[6],
            "error": row[7],
            "may_replace": bool(row[8]),
            "progress": {
                "files_total": len(files),
                "files_done": len(done),
                "chunks": sum(f.chunks for f in files),
                "failed": sum(f.status == "failed" for f in files),
            },
            "files": [
                {
                    "source": f.source,
                    "status": f.status,
                    "doc_id": f.doc_id,
                    "chunks": f.chunks,
                    "error": f.error,
                }
                for f in files
            ],
        }

    def unfinished(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM jobs WHERE status IN ('queued', 'running') ORDER BY created_at"
            ).fetchall()
        return [r[0] for r in rows]

    def recent(self, limit: int = 50) -> list[str]:
        """Ids of the newest jobs first (the admin console's job list)."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM jobs ORDER BY created_at DESC, id LIMIT ?", (limit,)).fetchall()
        return [r[0] for r in rows]

    def status_counts(self) -> dict[str, int]:
        """Jobs per state (queued, running, interrupted, done, failed): the metrics' job gauge."""
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        return {str(status): int(count) for status, count in rows}

    def close(self) -> None:
        self._db.close()


class JobRunner:
    """Runs jobs in one background thread (the embedding model is the bottleneck anyway), or
    inline for callers that wait; both go through the same journal and staging."""

    def __init__(
        self,
        ingestor: Ingestor,
        journal: JobJournal,
        staging: Staging,
        on_finished: Callable[[dict[str, Any], dict[str, int]], None] | None = None,
    ) -> None:
        self.on_finished = on_finished  # (job, redaction counts): the gateway audits here
        self.on_file: Callable[[FileOutcome], None] | None = None  # each file's outcome: the metrics
        self.ingestor = ingestor
        self.journal = journal
        self.staging = staging
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.max_attempts = 5
        self.backoff_s = 2.0

    def submit(
        self,
        collection: str,
        acl: Sequence[str],
        principal: str,
        files: Sequence[tuple[str, bytes]],
        *,
        may_replace: bool = False,
    ) -> str:
        """Journal and stage the job (durably) before anything is ingested.

        ``principal`` is the uploader's ``Principal.key``; ``may_replace`` whether the uploader
        may replace existing documents (the rights that deleting them needs). The bytes go the
        way of a streamed upload: into staging first, then ``submit_staged``."""
        stage_id = self.staging.new_upload()
        try:
            for index, (_, data) in enumerate(files):
                self.staging.put(stage_id, index, data)
            staged = [(source, hashlib.sha256(data).hexdigest()) for source, data in files]
            return self.submit_staged(collection, acl, principal, stage_id, staged, may_replace=may_replace)
        except BaseException:
            self.staging.drop_job(stage_id)
            raise

    def submit_staged(
        self,
        collection: str,
        acl: Sequence[str],
        principal: str,
        stage_id: str,
        files: Sequence[tuple[str, str]],
        *,
        may_replace: bool = False,
    ) -> str:
        """``submit`` for files already streamed into staging (``Staging.writer(stage_id, i)`` for
        file i): ``files`` gives (path as uploaded, SHA-256 of the bytes) per file. The same checks;
        then the job is journaled and the staged files become its own. When this raises, nothing is
        journaled and the caller still owns the staged files (``Staging.drop_job(stage_id)``)."""
        names = [source for source, _ in files]
        if len(set(names)) != len(names):
            raise InputError("two files in one upload have the same path")
        if not may_replace:
            self.refuse_replacements(collection, acl, files)
        job_id = self.journal.create(collection, acl, principal, self.name_sources(names), may_replace=may_replace)
        try:
            self.staging.adopt(stage_id, job_id)
        except BaseException as exc:
            self.journal.set_status(job_id, "failed", f"staging: {exc.__class__.__name__}")
            raise
        return job_id

    def run(self, job_id: str, limit: int | None = None) -> dict[str, Any]:
        """Ingest the job's files still queued (the first ``limit`` of them; then the job stays
        ``running`` while others remain). Files that fail because of the environment (store
        down, disk full) stay queued with their staged bytes, and the job is left ``interrupted``
        for a retry; files that fail on their own content are recorded as failed."""
        job = self.journal.get(job_id)
        self.journal.set_status(job_id, "running")
        pending: list[JobFile] = []
        uploaded: list[str] = []
        sources: list[SourceFile] = []
        for f in self.journal.files(job_id):
            if f.status != "queued":
                continue
            if limit is not None and len(pending) >= limit:
                break
            raw = self.journal.uploaded_source(job_id, f.index)
            try:
                data = self.staging.get(job_id, f.index)
            except (OSError, InvalidTag, ValueError) as exc:
                # A crash between journaling and staging, or a damaged staged copy: this file fails
                # alone (its bytes are gone), the rest of the job goes on.
                why = "missing" if isinstance(exc, FileNotFoundError) else "damaged"
                error = f"{f.source}: the staged copy of this upload is {why}; upload the file again"
                self.journal.record_file(job_id, f.index, FileOutcome(f.source, "failed", error=error))
                continue
            pending.append(f)
            uploaded.append(raw)
            sources.append(SourceFile(raw, data=data))
        by_doc = {
            document_id(job["collection"], raw, job["acl"], self.ingestor.core.data_key): f.index
            for raw, f in zip(uploaded, pending, strict=True)
        }
        retry: list[str] = []
        redactions: dict[str, int] = {}

        def progress(outcome: FileOutcome) -> None:
            index = by_doc.get(str(outcome.doc_id))  # None: a mail attachment, no upload of its own
            for key, value in outcome.redactions.items():
                redactions[key] = redactions.get(key, 0) + value
            if outcome.status == "failed" and _environmental(outcome.error):
                retry.append(outcome.error or "")
                return
            if index is not None:
                self.journal.record_file(job_id, index, outcome)
                self.staging.drop(job_id, index)
            if self.on_file is not None:
                self.on_file(outcome)

        try:
            self.ingestor.ingest(
                sources,
                job["collection"],
                job["acl"],
                may_replace=job["may_replace"],
                progress=progress,
                attachments=True,
            )
        except (EnclaveError, OSError) as exc:
            retry.append(f"{exc.__class__.__name__}: {exc}")
        if retry:
            self.journal.set_status(job_id, "interrupted", retry[0][:300])
        elif limit is not None and any(f.status == "queued" for f in self.journal.files(job_id)):
            return self.journal.get(job_id)  # part of the job: still running, not yet audited
        else:
            self.journal.set_status(job_id, "done")
            self.staging.drop_job(job_id)
        result = self.journal.get(job_id)
        if self.on_finished is not None:
            self.on_finished(result, redactions)
        return result

    def refuse_replacements(self, collection: str, acl: Sequence[str], files: Sequence[tuple[str, str]]) -> None:
        """Raise DocumentConflict (409) before anything is staged when an upload would replace an
        existing document with other content: (path as uploaded, SHA-256 of the bytes) per file.
        The ingest pipeline checks again when the job runs (another upload may come between)."""
        manifest, key = self.ingestor.manifest, self.ingestor.core.data_key
        clashing = []
        for source, sha in files:
            previous = manifest.get(collection, document_id(collection, source, acl, key))
            if previous is not None and (previous.content_sha256 != sha or list(previous.acl) != sorted(set(acl))):
                clashing.append(previous.source)
        if clashing:
            raise replacement_refused(clashing, collection)

    def name_sources(self, sources: Sequence[str]) -> list[tuple[str, str]]:
        """(as uploaded, as shown) per path: until a file is ingested (and its names get the
        collection's pseudonyms) the journal shows its path with typed placeholders."""
        return list(zip(sources, self.ingestor.redacted_sources(sources), strict=True))

    # -- background worker -------------------------------------------------------------------

    def start(self) -> None:
        for job_id in self.journal.unfinished():
            self._queue.put(job_id)
        self._thread = threading.Thread(target=self._work, name="ingest-jobs", daemon=True)
        self._thread.start()

    def enqueue(self, job_id: str) -> None:
        self._queue.put(job_id)

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=60)

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            for attempt in range(self.max_attempts):
                if self.run(job_id)["status"] == "done":
                    break
                time.sleep(min(60.0, self.backoff_s * 2**attempt))  # back off, then resume the job


def _environmental(error: str | None) -> bool:
    """Failures of the store or the disk, not of the document itself."""
    text = error or ""
    return any(marker in text for marker in ("unavailable", "No space", "Errno 28", "disk is full"))

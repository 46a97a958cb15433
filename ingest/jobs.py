"""Ingestion jobs: a journal of what was asked, per-file progress, and encrypted staging of
uploaded bytes, so that a gateway killed at any moment resumes its jobs on restart.

Uploaded documents contain plaintext personal data and must survive a crash until they are
ingested, so they are staged encrypted (AES-256-GCM with the vault key, the job and file
index bound in as associated data) and deleted as soon as their document is committed.
The journal itself holds only ids, relative paths, counts and error messages.
"""

from __future__ import annotations

import json
import queue
import secrets
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from enclave_core.errors import EnclaveError, InputError, NotFoundError
from enclave_core.keys import atomic_write
from enclave_core.settings import private_file
from ingest.pipeline import FileOutcome, Ingestor, SourceFile

__all__ = ["JobJournal", "JobRunner", "Staging"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Staging:
    def __init__(self, directory: Path, key: bytes) -> None:
        self.directory = directory
        self._aead = AESGCM(key)

    def _path(self, job_id: str, index: int) -> Path:
        return self.directory / job_id / f"{index}.bin"

    def put(self, job_id: str, index: int, data: bytes) -> None:
        nonce = secrets.token_bytes(12)
        blob = nonce + self._aead.encrypt(nonce, data, f"{job_id}/{index}".encode())
        atomic_write(self._path(job_id, index), blob)

    def get(self, job_id: str, index: int) -> bytes:
        blob = self._path(job_id, index).read_bytes()
        return self._aead.decrypt(blob[:12], blob[12:], f"{job_id}/{index}".encode())

    def drop(self, job_id: str, index: int) -> None:
        self._path(job_id, index).unlink(missing_ok=True)

    def drop_job(self, job_id: str) -> None:
        shutil.rmtree(self.directory / job_id, ignore_errors=True)


@dataclass(frozen=True)
class JobFile:
    index: int
    source: str
    status: str  # queued | ingested | unchanged | failed | skipped
    doc_id: str | None
    chunks: int
    error: str | None


class JobJournal:
    def __init__(self, path: Path) -> None:
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
        self._lock = threading.Lock()

    def create(self, collection: str, acl: Sequence[str], principal: str, sources: Sequence[str]) -> str:
        job_id = uuid.uuid4().hex
        now = _now()
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, 'queued', ?, ?, NULL)",
                (job_id, collection, json.dumps(sorted(acl)), principal, now, now),
            )
            self._db.executemany(
                "INSERT INTO job_files (job_id, idx, source, status) VALUES (?, ?, ?, 'queued')",
                [(job_id, i, s) for i, s in enumerate(sources)],
            )
        return job_id

    def set_status(self, job_id: str, status: str, error: str | None = None) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET status=?, updated_at=?, error=? WHERE id=?", (status, _now(), error, job_id)
            )

    def record_file(self, job_id: str, index: int, outcome: FileOutcome) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE job_files SET status=?, doc_id=?, chunks=?, error=? WHERE job_id=? AND idx=?",
                (outcome.status, outcome.doc_id, outcome.chunks, outcome.error, job_id, index),
            )

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
                "SELECT id, collection, acl, principal, status, created_at, updated_at, error FROM jobs WHERE id=?",
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
        self.ingestor = ingestor
        self.journal = journal
        self.staging = staging
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.max_attempts = 5
        self.backoff_s = 2.0

    def submit(self, collection: str, acl: Sequence[str], principal: str, files: Sequence[tuple[str, bytes]]) -> str:
        """Journal and stage the job (durably) before anything is ingested."""
        names = [source for source, _ in files]
        if len(set(names)) != len(names):
            raise InputError("two files in one upload have the same path")
        job_id = self.journal.create(collection, acl, principal, [source for source, _ in files])
        for index, (_, data) in enumerate(files):
            self.staging.put(job_id, index, data)
        return job_id

    def run(self, job_id: str) -> dict[str, Any]:
        """Ingest the job's files still queued. Files that fail because of the environment (store
        down, disk full) stay queued with their staged bytes, and the job is left ``interrupted``
        for a retry; files that fail on their own content are recorded as failed."""
        job = self.journal.get(job_id)
        self.journal.set_status(job_id, "running")
        pending = [f for f in self.journal.files(job_id) if f.status == "queued"]
        sources = [SourceFile(f.source, data=self.staging.get(job_id, f.index)) for f in pending]
        by_source = {f.source: f.index for f in pending}
        retry: list[str] = []
        redactions: dict[str, int] = {}

        def progress(outcome: FileOutcome) -> None:
            index = by_source[outcome.source]
            for key, value in outcome.redactions.items():
                redactions[key] = redactions.get(key, 0) + value
            if outcome.status == "failed" and _environmental(outcome.error):
                retry.append(outcome.error or "")
                return
            self.journal.record_file(job_id, index, outcome)
            self.staging.drop(job_id, index)

        try:
            self.ingestor.ingest(sources, job["collection"], job["acl"], progress=progress)
        except (EnclaveError, OSError) as exc:
            retry.append(f"{exc.__class__.__name__}: {exc}")
        if retry:
            self.journal.set_status(job_id, "interrupted", retry[0][:300])
        else:
            self.journal.set_status(job_id, "done")
            self.staging.drop_job(job_id)
        result = self.journal.get(job_id)
        if self.on_finished is not None:
            self.on_finished(result, redactions)
        return result

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

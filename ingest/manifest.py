"""What has been ingested: one row per document, written last, after its points are stored.

The row is the document's commit marker: a document whose row matches the file's hash was
completely written; anything else is (re)processed. Only hashes, ids and relative paths are
kept here, never document text.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from enclave_core.settings import private_file

__all__ = ["DocumentRecord", "Manifest"]


@dataclass(frozen=True)
class DocumentRecord:
    collection: str
    doc_id: str
    source: str
    content_sha256: str
    chunk_ids: tuple[str, ...]
    acl: tuple[str, ...]
    ingested_at: str


class Manifest:
    def __init__(self, path: Path) -> None:
        private_file(path)  # 0600 whatever the umask (SQLite gives its -wal/-shm files this mode)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            """CREATE TABLE IF NOT EXISTS documents (
                collection TEXT NOT NULL, doc_id TEXT NOT NULL, source TEXT NOT NULL,
                content_sha256 TEXT NOT NULL, chunk_ids TEXT NOT NULL, acl TEXT NOT NULL,
                ingested_at TEXT NOT NULL, PRIMARY KEY (collection, doc_id))"""
        )
        self._db.execute(
            """CREATE TABLE IF NOT EXISTS pending (
                collection TEXT NOT NULL, doc_id TEXT NOT NULL, chunk_ids TEXT NOT NULL,
                PRIMARY KEY (collection, doc_id))"""
        )
        self._lock = threading.Lock()

    def begin(self, collection: str, doc_id: str, chunk_ids: list[str]) -> None:
        """Record the point ids about to be written, so a crash before commit leaves no orphans:
        the next attempt at this document removes whatever this one wrote and did not keep."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO pending VALUES (?, ?, ?)", (collection, doc_id, json.dumps(chunk_ids))
            )

    def pending(self, collection: str, doc_id: str) -> set[str]:
        with self._lock:
            row = self._db.execute(
                "SELECT chunk_ids FROM pending WHERE collection=? AND doc_id=?", (collection, doc_id)
            ).fetchone()
        return set(json.loads(row[0])) if row else set()

    def get(self, collection: str, doc_id: str) -> DocumentRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT collection, doc_id, source, content_sha256, chunk_ids, acl, ingested_at "
                "FROM documents WHERE collection=? AND doc_id=?",
                (collection, doc_id),
            ).fetchone()
        if row is None:
            return None
        return DocumentRecord(
            row[0], row[1], row[2], row[3], tuple(json.loads(row[4])), tuple(json.loads(row[5])), row[6]
        )

    def put(self, collection: str, doc_id: str, source: str, sha: str, chunk_ids: list[str], acl: list[str]) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
                (collection, doc_id, source, sha, json.dumps(chunk_ids), json.dumps(sorted(acl)), now),
            )
            self._db.execute("DELETE FROM pending WHERE collection=? AND doc_id=?", (collection, doc_id))

    def delete(self, collection: str, doc_id: str) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM documents WHERE collection=? AND doc_id=?", (collection, doc_id))
            self._db.execute("DELETE FROM pending WHERE collection=? AND doc_id=?", (collection, doc_id))

    def documents(self, collection: str) -> list[DocumentRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT collection, doc_id, source, content_sha256, chunk_ids, acl, ingested_at "
                "FROM documents WHERE collection=? ORDER BY source",
                (collection,),
            ).fetchall()
        return [
            DocumentRecord(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])), tuple(json.loads(r[5])), r[6]) for r in rows
        ]

    def vacuum(self) -> None:
        """Rewrite the file and empty the WAL, so that deleted rows do not linger in free pages."""
        with self._lock:
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self._db.close()

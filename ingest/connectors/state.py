"""Sync state: what each connector last stored, per item, in SQLite under the state dir.

A row is written only after its document is committed to the store, so a sync killed at any
point resumes by running again: items already stored are recognised and skipped.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SyncRecord", "SyncState"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sync_items (
    collection TEXT NOT NULL, connector TEXT NOT NULL, key TEXT NOT NULL,
    doc_id TEXT NOT NULL, children TEXT NOT NULL, version TEXT NOT NULL, sha TEXT NOT NULL,
    readers TEXT NOT NULL, synced_at TEXT NOT NULL,
    PRIMARY KEY (collection, connector, key)
);
CREATE TABLE IF NOT EXISTS sync_runs (
    collection TEXT NOT NULL, connector TEXT NOT NULL, finished_at TEXT NOT NULL,
    PRIMARY KEY (collection, connector)
);
"""


@dataclass(frozen=True)
class SyncRecord:
    key: str
    doc_id: str
    children: tuple[str, ...]  # doc ids of mail attachments ingested with it
    version: str
    sha: str
    readers: tuple[str, ...]


class SyncState:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def records(self, collection: str, connector: str) -> dict[str, SyncRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, doc_id, children, version, sha, readers FROM sync_items"
                " WHERE collection=? AND connector=?",
                (collection, connector),
            ).fetchall()
        return {
            r[0]: SyncRecord(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4], tuple(json.loads(r[5]))) for r in rows
        }

    def put(self, collection: str, connector: str, record: SyncRecord, when: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO sync_items VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    collection,
                    connector,
                    record.key,
                    record.doc_id,
                    json.dumps(list(record.children)),
                    record.version,
                    record.sha,
                    json.dumps(list(record.readers)),
                    when,
                ),
            )

    def delete(self, collection: str, connector: str, key: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM sync_items WHERE collection=? AND connector=? AND key=?", (collection, connector, key)
            )

    def finished(self, collection: str, connector: str, when: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO sync_runs VALUES (?,?,?)", (collection, connector, when))

    def last_finished(self, collection: str, connector: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT finished_at FROM sync_runs WHERE collection=? AND connector=?", (collection, connector)
            ).fetchone()
        return str(row[0]) if row else None

    def close(self) -> None:
        self._db.close()

"""Connector syncs as jobs: each run has an id, progress and an outcome, and a collection has at
most one run at a time — in this process (the registry) and across processes (a lock file, so a
cron `enclave sync --due` and the gateway's scheduler never sync one collection together).

Runs are held in memory: a sync's report names items by their paths and URLs, which hold names,
and nothing of that kind is written to disk. What a sync leaves on disk is its state
(state.py: keyed hashes only) and its audit record (counts only). A restarted process has no
runs to show; the next sync resumes from the state.
"""

from __future__ import annotations

import fcntl
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from enclave_core.errors import DocumentConflict

from .sync import SyncReport

__all__ = ["MAX_RUNS_KEPT", "SyncBusy", "SyncRun", "SyncRuns", "SyncStopped", "collection_lock"]

MAX_RUNS_KEPT = 200  # finished runs remembered for GET, oldest forgotten first

Status = Literal["queued", "running", "done", "failed", "interrupted"]


class SyncBusy(DocumentConflict):
    """Another process is syncing this collection now (409: try again when it has finished)."""


class SyncStopped(Exception):
    """Raised between items when the process is shutting down; the next sync resumes."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class SyncRun:
    id: str
    collection: str
    via: str  # api | schedule | cli
    status: Status = "queued"
    queued_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    connectors_total: int = 0
    connectors_done: int = 0
    connector: str | None = None  # the one running now
    items_seen: int = 0  # items of the listing processed so far, over all connectors
    reports: list[SyncReport] = field(default_factory=list)
    error: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "collection": self.collection,
            "via": self.via,
            "status": self.status,
            "queued_at": self.queued_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "progress": {
                "connectors_total": self.connectors_total,
                "connectors_done": self.connectors_done,
                "connector": self.connector,
                "items_seen": self.items_seen,
            },
            "connectors": [r.to_json() for r in self.reports],
            "error": self.error,
        }


class SyncRuns:
    """The runs of one process: at most one active run per collection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, SyncRun] = OrderedDict()
        self._active: dict[str, str] = {}

    def begin(self, collection: str, via: str) -> tuple[SyncRun, bool]:
        """A new queued run, or (the active run, False) when the collection has one."""
        with self._lock:
            current = self._active.get(collection)
            if current is not None:
                return self._runs[current], False
            run = SyncRun(id=uuid.uuid4().hex, collection=collection, via=via)
            self._runs[run.id] = run
            self._active[collection] = run.id
            self._forget_old()
            return run, True

    def end(self, run: SyncRun, status: Status, error: str | None = None) -> None:
        with self._lock:
            run.status, run.error, run.finished_at, run.connector = status, error, _now(), None
            if self._active.get(run.collection) == run.id:
                del self._active[run.collection]

    def get(self, run_id: str) -> SyncRun | None:
        with self._lock:
            return self._runs.get(run_id)

    def active(self) -> list[SyncRun]:
        with self._lock:
            return [self._runs[i] for i in self._active.values()]

    def _forget_old(self) -> None:
        finished = [i for i, r in self._runs.items() if not r.active]
        for run_id in finished[: max(0, len(self._runs) - MAX_RUNS_KEPT)]:
            del self._runs[run_id]


@contextmanager
def collection_lock(lock_dir: Path, collection: str) -> Iterator[None]:
    """Hold the collection's sync lock file, or raise SyncBusy at once when another holds it.
    The kernel drops the lock when its holder dies, so a killed sync never blocks the next."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_dir / f"connectors-{collection}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise SyncBusy(f"collection '{collection}' is being synced by another process; try again later") from exc
        yield
    finally:
        os.close(fd)  # closing releases the lock

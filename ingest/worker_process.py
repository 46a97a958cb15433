"""The ingest worker process: runs journaled jobs away from the gateway's interpreter.

Loading, redaction (spaCy + Presidio) and embedding are CPU-bound Python that holds the GIL; in
a thread of the gateway they stall every query for about a second per batch. Here they run in
a process of their own, at a lower CPU priority, started and supervised by
``ingest.worker_pool.ProcessJobRunner`` in the gateway.

The worker opens the same journal, staging area, manifest and pseudonym vault as the gateway:
SQLite (WAL) and the vault's file lock make them safe to share between processes, and the
vault is re-read under that lock at every assignment, so both processes hand out the same
pseudonyms. The embedded vector store (qdrant-edge, or qdrant-client's local mode) is
in-process and locks its folder, so the worker cannot open it: its store is a ``RemoteStore``
whose calls go over the worker's pipe to the gateway, which owns the store. What crosses the
pipe is what the store keeps anyway: redacted chunk text, vectors and ids, never a file's
plaintext, and nothing of it is written to disk on the way. With a Qdrant server
(``vector_store.url``) the worker writes to it directly.

Messages, worker -> gateway: ``("store", method, args, kwargs)`` (answered by ``("ok", value)``
or ``("err", exception)``), ``("file", FileOutcome)`` per finished file, and
``("done", job_id, job, redactions)`` when a job's run ends (or ``("crashed", job_id, why)``
if it raised). Gateway -> worker: ``("run", job_id)``, ``("stop",)``.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

from enclave_core.embedding.base import Vectors
from enclave_core.embedding.sparse import SparseVector
from enclave_core.logs import configure_logging
from enclave_core.runtime import Core
from enclave_core.settings import Settings
from enclave_core.vectorstore.base import AccessScope, Hit, PointRecord
from ingest.jobs import JobJournal, JobRunner, Staging
from ingest.pipeline import Ingestor

__all__ = ["RemoteStore", "lower_priority", "worker_main"]

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


class RemoteStore:
    """The gateway's vector store, seen from the worker: each call is a request on the pipe.

    A worker whose gateway is gone must not go on writing journal rows ("failed: store
    unavailable") for files a restarted gateway will ingest: a broken pipe ends the process."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            self._conn.send(("store", method, args, kwargs))
            reply = self._conn.recv()
        except (EOFError, OSError):
            os._exit(3)  # the gateway died: die with it, mid-call (the journal resumes the job)
        if reply[0] == "err":
            raise reply[1]
        return reply[1]

    def collection_exists(self, name: str) -> bool:
        return bool(self._call("collection_exists", name))

    def ensure_collection(self, name: str, dimension: int, metadata: dict[str, Any] | None = None) -> None:
        self._call("ensure_collection", name, dimension, metadata)

    def collection_metadata(self, name: str) -> dict[str, Any]:
        return dict(self._call("collection_metadata", name))

    def update_collection_metadata(self, name: str, metadata: dict[str, Any]) -> None:
        self._call("update_collection_metadata", name, metadata)

    def list_collections(self) -> list[str]:
        return list(self._call("list_collections"))

    def delete_collection(self, name: str) -> None:
        self._call("delete_collection", name)

    def upsert(self, name: str, points: Sequence[PointRecord]) -> None:
        self._call("upsert", name, list(points))

    def delete_points(self, name: str, ids: Sequence[str]) -> None:
        self._call("delete_points", name, list(ids))

    def document_point_ids(self, name: str, doc_id: str) -> set[str]:
        return set(self._call("document_point_ids", name, doc_id))

    def set_document_payload(self, name: str, doc_id: str, payload: dict[str, Any]) -> None:
        self._call("set_document_payload", name, doc_id, payload)

    def count(self, name: str, scope: AccessScope | None = None) -> int:
        return int(self._call("count", name, scope))

    def iter_points(self, name: str) -> Iterator[Hit]:
        return iter(self._call("iter_points", name))

    def compact(self, name: str) -> None:
        self._call("compact", name)

    def search(
        self, name: str, dense: Vectors | None, sparse: SparseVector | None, scope: AccessScope, limit: int
    ) -> tuple[list[Hit], list[Hit]]:
        dense_hits, sparse_hits = self._call("search", name, dense, sparse, scope, limit)
        return list(dense_hits), list(sparse_hits)

    def check(self) -> None:
        self._call("check")

    def close(self) -> None:
        """The store is the gateway's: closing the worker leaves it open."""


def lower_priority(nice: int) -> None:
    """Yield the CPU to the gateway: SCHED_BATCH (no wake-up preemption of interactive threads) and
    a higher nice value. Set before any thread starts, so the model runtimes' threads inherit it."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or refused: the nice value alone
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    if nice:
        try:
            os.nice(nice)
        except OSError:
            log.warning("cannot lower the ingest worker's priority")


def _die_with(parent: int) -> None:
    """End this process when the gateway ends, even by SIGKILL: the kernel's parent-death signal
    where available, and a watch on the parent's pid in any case."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(3)

    if os.getppid() != parent:
        os._exit(3)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def worker_main(settings: Settings, conn: Connection, parent: int) -> None:
    """The worker's life: open what jobs need, then run each job the gateway sends, one at a time."""
    lower_priority(settings.ingest.worker_nice)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the gateway stops us
    _die_with(parent)
    configure_logging(settings.logging.level)
    runner = _build_runner(settings, conn)
    redactions: dict[str, int] = {}
    runner.on_file = lambda outcome: conn.send(("file", outcome))
    runner.on_finished = lambda job, counts: redactions.update(counts)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            break
        if message[0] != "run":
            break
        job_id, limit = message[1], message[2]
        redactions.clear()
        try:
            job = runner.run(job_id, limit)
        except Exception as exc:  # a bug, not a document: the gateway leaves the job for a retry
            log.exception("ingest job %s failed in the worker", job_id)
            conn.send(("crashed", job_id, f"{exc.__class__.__name__}: {exc}"[:300]))
            continue
        conn.send(("done", job_id, job, dict(redactions)))
    runner.journal.close()
    runner.ingestor.manifest.close()
    runner.ingestor.core.close()
    sys.exit(0)


def _build_runner(settings: Settings, conn: Connection) -> JobRunner:
    core = Core(settings)
    if settings.vector_store.url is None:  # the embedded store is the gateway's alone
        core.__dict__["store"] = RemoteStore(conn)
    journal = JobJournal(settings.state_dir / "jobs.sqlite", core.data_key)
    # Uploads still streaming in belong to the gateway: the worker never sweeps them.
    staging = Staging(settings.state_dir / "staging", core.data_key, orphan_after_s=float("inf"))
    return JobRunner(Ingestor(core), journal, staging)

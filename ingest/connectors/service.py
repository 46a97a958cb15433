"""What the CLI (`enclave sync`), the REST routes and the scheduler call: sync a collection's
connectors now, start a sync as a background run, or start every collection whose schedule is
due. The service enforces who may sync (the collection's administrators) and that a collection
has one sync at a time; the executor it runs background syncs on is passed in, so the same
service can run inside the gateway or an ingest worker process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from enclave_core.audit.events import AuditEvent, write_event
from enclave_core.errors import EnclaveError, NotFoundError
from enclave_core.identity import LOCAL_ADMIN, Principal
from enclave_core.retrieval import validate_collection_name
from enclave_core.service import RagService
from ingest.pipeline import Ingestor

from .config import CollectionSync, build_connector, load_connectors_policy
from .runs import SyncBusy, SyncRun, SyncRuns, SyncStopped, collection_lock
from .state import SyncState
from .sync import Syncer, SyncReport

__all__ = ["ConnectorService"]


class ConnectorService:
    def __init__(
        self,
        ingestor: Ingestor,
        state: SyncState,
        policy_path: Path,
        *,
        executor: Executor | None = None,
        runs: SyncRuns | None = None,
        lock_dir: Path | None = None,
        principal: Principal = LOCAL_ADMIN,
        via: str = "cli",
    ) -> None:
        """``executor`` runs background syncs (start); without one only sync() is available.
        ``principal``/``via``: who sync() and sync_due() act as when the caller names nobody."""
        self.ingestor = ingestor
        self.state = state
        self.policy_path = policy_path
        self.executor = executor
        self.runs = runs or SyncRuns()
        self.lock_dir = lock_dir or state.path.parent
        self.principal = principal
        self.via = via
        self._stopping = threading.Event()

    def _policy(self) -> dict[str, CollectionSync]:
        return load_connectors_policy(self.policy_path)  # re-read each time: edits apply at the next sync

    def _config(self, collection: str) -> CollectionSync:
        config = self._policy().get(collection)
        if config is None:
            raise NotFoundError(f"no connectors configured for collection '{collection}'")
        return config

    def authorize(self, principal: Principal, collection: str, via: str, path: str | None = None) -> None:
        """Only the collection's administrators may sync it or see its syncs; a refusal is audited."""
        validate_collection_name(collection)  # 400 for a name no collection can have, before any lookup
        RagService(self.ingestor.core, via=via).authorize(principal, "admin", collection, path=path)

    def collections(self) -> list[str]:
        return sorted(self._policy())

    # -- now, in the caller's thread (CLI) ------------------------------------------------------

    def sync(self, collection: str, principal: Principal | None = None, via: str | None = None) -> list[SyncReport]:
        """Sync every connector of the collection now; one connector's failure is reported, not raised."""
        principal, via = principal or self.principal, via or self.via
        self.authorize(principal, collection, via)
        config = self._config(collection)
        run, created = self.runs.begin(collection, via)
        if not created:
            raise SyncBusy(f"collection '{collection}' is being synced already; try again when it has finished")
        try:
            with collection_lock(self.lock_dir, collection):
                self._run(run, config, principal)
        except BaseException as exc:
            self.runs.end(run, "failed", _error_text(exc))
            raise
        self.runs.end(run, "done")
        return run.reports

    # -- in the background (REST, scheduler) -----------------------------------------------------

    def start(
        self, principal: Principal, collection: str, *, via: str, path: str | None = None
    ) -> tuple[SyncRun, bool]:
        """Queue a sync on the executor: (the run, True), or (the collection's active run, False)."""
        if self.executor is None:
            raise RuntimeError("ConnectorService.start needs an executor")
        self.authorize(principal, collection, via, path)
        config = self._config(collection)  # 404 before anything is queued
        run, created = self.runs.begin(collection, via)
        if created:
            self.executor.submit(self._background, run, config, principal)
        return run, created

    def get(self, principal: Principal, collection: str, run_id: str, *, via: str, path: str | None = None) -> SyncRun:
        self.authorize(principal, collection, via, path)
        run = self.runs.get(run_id)
        if run is None or run.collection != collection:
            raise NotFoundError(f"no sync '{run_id}' of collection '{collection}' (runs are kept until a restart)")
        return run

    def _background(self, run: SyncRun, config: CollectionSync, principal: Principal) -> None:
        try:
            with collection_lock(self.lock_dir, run.collection):
                self._run(run, config, principal)
        except SyncStopped:
            self.runs.end(run, "interrupted", "the service stopped; the next sync resumes")
        except Exception as exc:  # the run records it; the executor's thread serves the next run
            self.runs.end(run, "failed", _error_text(exc))
        else:
            self.runs.end(run, "done")

    def stop(self) -> None:
        """Make running syncs stop before their next item (shutdown); their state stays consistent."""
        self._stopping.set()

    def _run(self, run: SyncRun, config: CollectionSync, principal: Principal) -> None:
        run.status, run.started_at = "running", datetime.now(UTC).isoformat(timespec="seconds")
        run.connectors_total = len(config.connectors)
        syncer = Syncer(self.ingestor, self.state, on_item=self._progress(run))
        for entry in config.connectors:
            run.connector = entry["name"]
            connector = build_connector(entry, self.policy_path)
            run.reports.append(syncer.sync(run.collection, connector))
            run.connectors_done += 1
        self._audit(run, principal)

    def _progress(self, run: SyncRun) -> Callable[[str], None]:
        def seen(_key: str) -> None:
            if self._stopping.is_set():
                raise SyncStopped
            run.items_seen += 1

        return seen

    def _audit(self, run: SyncRun, principal: Principal) -> None:
        """One record per sync: counts per connector, never the items' paths or error texts
        (paths hold names; the run, kept in memory, carries those for its administrators)."""
        counts = {
            r.connector: {
                "added": r.added,
                "updated": r.updated,
                "deleted": r.deleted,
                "moved": r.moved,
                "readers_changed": r.readers_changed,
                "failed": len(r.failed),
                "deletions_skipped": r.deletions_skipped,
            }
            for r in run.reports
        }
        outcome = "partial" if any(r.failed for r in run.reports) else "ok"
        event = AuditEvent.by(
            principal,
            "collection.sync",
            outcome,
            via=run.via,
            collection=run.collection,
            connectors=counts,
            sync=run.id,
        )
        write_event(self.ingestor.core.audit, event)

    # -- schedules --------------------------------------------------------------------------------

    def due(self, now: datetime | None = None) -> list[str]:
        """Collections with a schedule whose oldest connector run is older than it."""
        now = now or datetime.now(UTC)
        due = []
        for name, config in sorted(self._policy().items()):
            if config.schedule_minutes is None:
                continue
            period = timedelta(minutes=config.schedule_minutes)
            runs = [self.state.last_finished(name, entry["name"]) for entry in config.connectors]
            if any(run is None or now - datetime.fromisoformat(run) >= period for run in runs):
                due.append(name)
        return due

    def sync_due(self, now: datetime | None = None) -> dict[str, list[SyncReport]]:
        """Every due collection, one after another, now (`enclave sync --due`)."""
        return {collection: self.sync(collection) for collection in self.due(now)}

    def start_due(self, now: datetime | None = None) -> list[SyncRun]:
        """Queue every due collection that is not syncing already (the scheduler's tick)."""
        started = []
        for collection in self.due(now):
            run, created = self.start(self.principal, collection, via="schedule")
            if created:
                started.append(run)
        return started


def _error_text(exc: BaseException) -> str:
    """Enclave's own messages name no document; a library's may quote a path, so only its class."""
    return str(exc) if isinstance(exc, EnclaveError) else exc.__class__.__name__

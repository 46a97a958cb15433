"""What the CLI (`enclave sync`) and the REST route call: sync a collection's connectors now,
or every collection whose schedule is due. Thin callers, collaborators passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from enclave_core.audit.events import AuditEvent, write_event
from enclave_core.errors import NotFoundError
from enclave_core.identity import LOCAL_ADMIN, Principal
from ingest.pipeline import Ingestor

from .config import CollectionSync, build_connector, load_connectors_policy
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
        principal: Principal = LOCAL_ADMIN,
        via: str = "cli",
    ) -> None:
        self.ingestor = ingestor
        self.syncer = Syncer(ingestor, state)
        self.state = state
        self.policy_path = policy_path
        self.principal = principal  # who started the sync: named in its audit record
        self.via = via

    def _policy(self) -> dict[str, CollectionSync]:
        return load_connectors_policy(self.policy_path)  # re-read each time: edits apply at the next sync

    def collections(self) -> list[str]:
        return sorted(self._policy())

    def sync(self, collection: str) -> list[SyncReport]:
        """Sync every connector of the collection; one connector's failure is reported, not raised."""
        config = self._policy().get(collection)
        if config is None:
            raise NotFoundError(f"no connectors configured for collection '{collection}'")
        reports = []
        for entry in config.connectors:
            connector = build_connector(entry, self.policy_path)
            reports.append(self.syncer.sync(collection, connector))
        self._audit(collection, reports)
        return reports

    def _audit(self, collection: str, reports: list[SyncReport]) -> None:
        """One record per sync: counts per connector, never the items' paths or error texts
        (paths hold names; the sync report returned to the caller carries those)."""
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
            for r in reports
        }
        outcome = "partial" if any(r.failed for r in reports) else "ok"
        event = AuditEvent.by(
            self.principal, "collection.sync", outcome, via=self.via, collection=collection, connectors=counts
        )
        write_event(self.ingestor.core.audit, event)

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
        return {collection: self.sync(collection) for collection in self.due(now)}

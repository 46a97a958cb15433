"""POST /v1/collections/{name}/sync: run a collection's connectors now (policies/connectors.yaml).

Thin over ingest.connectors.service.ConnectorService, as `enclave sync` is; only the
collection's administrators may start one. The sync runs within the request (a large first sync
is better started with `enclave sync` or left to the schedule)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ingest.connectors.service import ConnectorService
from ingest.connectors.state import SyncState
from services.gateway.deps import CoreDep, CurrentPrincipal, IngestorDep, authorize

router = APIRouter(tags=["connectors"])


class ConnectorReport(BaseModel):
    connector: str
    added: int
    updated: int
    unchanged: int
    readers_changed: int
    moved: int
    deleted: int
    without_readers: int
    failed: list[str]
    deletions_skipped: bool


class SyncResponse(BaseModel):
    collection: str
    connectors: list[ConnectorReport]


@router.post("/v1/collections/{name}/sync", response_model=SyncResponse)
def sync_collection(
    name: str, request: Request, core: CoreDep, ingestor: IngestorDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Sync every connector of the collection; 404 when none is configured for it."""
    authorize(core, principal, "admin", name, request)
    state = SyncState(core.settings.state_dir / "connectors.sqlite")
    try:
        service = ConnectorService(
            ingestor, state, core.settings.policies_dir / "connectors.yaml", principal=principal, via="api"
        )
        reports = service.sync(name)
    finally:
        state.close()
    return {"collection": name, "connectors": [r.to_json() for r in reports]}

"""Connector syncs over REST (policies/connectors.yaml): POST /v1/collections/{name}/sync starts
one in the background (202 and its id), GET /v1/collections/{name}/sync/{id} shows its progress
and outcome. Thin over ingest.connectors.service.ConnectorService, which checks that the caller
administers the collection and runs one sync per collection at a time; its scheduler thread
starts the syncs whose ``schedule_minutes`` is due."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ingest.connectors.runs import SyncRuns
from ingest.connectors.scheduler import SyncScheduler
from ingest.connectors.service import ConnectorService
from ingest.connectors.state import SyncState
from ingest.pipeline import Ingestor
from services.gateway.deps import CurrentPrincipal

__all__ = ["router", "start_connectors"]

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


class SyncProgress(BaseModel):
    connectors_total: int
    connectors_done: int
    connector: str | None  # the connector running now
    items_seen: int


class SyncOut(BaseModel):
    id: str
    collection: str
    via: str
    status: Literal["queued", "running", "done", "failed", "interrupted"]
    queued_at: str
    started_at: str | None
    finished_at: str | None
    progress: SyncProgress
    connectors: list[ConnectorReport]  # one report per finished connector
    error: str | None


def start_connectors(app_state: Any, ingestor: Ingestor) -> Callable[[], None]:
    """The gateway's ConnectorService (one sync thread) and its scheduler; returns the stop."""
    settings = ingestor.core.settings
    state = SyncState(settings.state_dir / "connectors.sqlite")
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="connector-sync")
    service = ConnectorService(
        ingestor, state, settings.policies_dir / "connectors.yaml", executor=executor, runs=SyncRuns()
    )
    scheduler = SyncScheduler(service)
    app_state.connectors = service
    scheduler.start()

    def stop() -> None:
        scheduler.stop()
        service.stop()  # a running sync stops before its next item; the next one resumes
        executor.shutdown(wait=True, cancel_futures=True)
        state.close()

    return stop


def _service(request: Request) -> ConnectorService:
    service: ConnectorService = request.app.state.connectors
    return service


@router.post(
    "/v1/collections/{name}/sync",
    status_code=202,
    response_model=SyncOut,
    responses={200: {"model": SyncOut, "description": "a sync of this collection is running already"}},
)
def start_sync(name: str, request: Request, principal: CurrentPrincipal) -> Any:
    """Start syncing every connector of the collection; 404 when none is configured for it."""
    run, created = _service(request).start(principal, name, via="api", path=request.url.path)
    headers = {"Location": f"/v1/collections/{name}/sync/{run.id}"}
    return JSONResponse(run.to_json(), status_code=202 if created else 200, headers=headers)


@router.get("/v1/collections/{name}/sync/{sync_id}", response_model=SyncOut)
def get_sync(name: str, sync_id: str, request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    """A sync's progress, and its per-connector reports once they are done."""
    return _service(request).get(principal, name, sync_id, via="api", path=request.url.path).to_json()

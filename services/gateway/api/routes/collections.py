from __future__ import annotations

from fastapi import APIRouter

from ingest import AdminService
from services.gateway.deps import CoreDep, CurrentPrincipal, IngestorDep
from services.gateway.schemas import CollectionsResponse

router = APIRouter(tags=["collections"])


@router.get("/v1/collections", response_model=CollectionsResponse)
def list_collections(core: CoreDep, ingestor: IngestorDep, principal: CurrentPrincipal) -> dict[str, object]:
    """Collections with at least one document the caller may read (all of them for admins).
    (Also called directly by the OpenAI-compatible and UI routes, hence the parts as parameters.)"""
    return {"collections": AdminService(core, ingestor).collections(principal)}

from __future__ import annotations

from fastapi import APIRouter

from services.gateway.deps import CoreDep, CurrentPrincipal, IngestorDep
from services.gateway.schemas import CollectionsResponse

router = APIRouter(tags=["collections"])


@router.get("/v1/collections", response_model=CollectionsResponse)
def list_collections(core: CoreDep, ingestor: IngestorDep, principal: CurrentPrincipal) -> dict[str, object]:
    """Collections with at least one document the caller may read (all of them for admins)."""
    out = []
    for name in core.store.list_collections():
        if not core.access.allows(principal, "read", name):
            continue
        visible = principal.groups | {"*"}
        docs = [d for d in ingestor.manifest.documents(name) if principal.is_admin or visible.intersection(d.acl)]
        if docs or principal.is_admin:
            out.append({"name": name, "documents": len(docs), "chunks": sum(len(d.chunk_ids) for d in docs)})
    return {"collections": out}

from __future__ import annotations

from fastapi import APIRouter

from services.gateway.deps import CurrentPrincipal, RagDep
from services.gateway.schemas import SearchRequest, SearchResponse

router = APIRouter(tags=["search"])


@router.post("/v1/search", response_model=SearchResponse)
def search(body: SearchRequest, rag: RagDep, principal: CurrentPrincipal) -> dict[str, object]:
    """Retrieval only: the chunks the caller may read that best match the question."""
    citations = rag.search(principal, body.collection, body.question, top_k=body.top_k, mode=body.mode)
    return {"citations": [c.to_json() for c in citations]}

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from enclave_core.identity import Principal
from enclave_core.service import RagService
from services.gateway.deps import CurrentPrincipal, RagDep
from services.gateway.schemas import SearchRequest, SearchResponse

router = APIRouter(tags=["search"])


@router.post("/v1/search", response_model=SearchResponse)
async def search(body: SearchRequest, rag: RagDep, principal: CurrentPrincipal) -> Response:
    """Retrieval only: the chunks the caller may read that best match the question."""
    # One trip to the thread pool for the search and its JSON: a plain-function route returning a
    # dict costs a second trip (FastAPI validates a sync route's result in the pool) and the
    # response model's serialisation on the event loop. Same schema, same bytes.
    payload = await run_in_threadpool(_search_json, rag, principal, body)
    return Response(payload, media_type="application/json")


def _search_json(rag: RagService, principal: Principal, body: SearchRequest) -> bytes:
    citations = rag.search(principal, body.collection, body.question, top_k=body.top_k, mode=body.mode)
    return SearchResponse.model_validate({"citations": [c.to_json() for c in citations]}).model_dump_json().encode()

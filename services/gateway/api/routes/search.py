from __future__ import annotations

import time

from fastapi import APIRouter, Request

from enclave_core.errors import EnclaveError
from services.gateway.deps import CoreDep, CurrentPrincipal, authorize
from services.gateway.schemas import SearchRequest, SearchResponse

router = APIRouter(tags=["search"])


@router.post("/v1/search", response_model=SearchResponse)
def search(
    body: SearchRequest, request: Request, core: CoreDep, principal: CurrentPrincipal
) -> dict[str, object]:
    """Retrieval only: the chunks the caller may read that best match the question."""
    started = time.perf_counter()
    authorize(core, principal, "read", body.collection, request)
    audit = {
        "principal": principal.name,
        "groups": sorted(principal.groups),
        "collection": body.collection,
        "question": core.redactor.redact(body.question).text,
        "policy_version": core.access.version,
        "decision": "allow",
    }
    try:
        citations = core.retriever.search(
            body.collection, body.question, principal.scope(), top_k=body.top_k, mode=body.mode
        )
    except EnclaveError as exc:
        core.audit.append("search", **audit, outcome="error", error=exc.__class__.__name__)
        raise
    core.audit.append(
        "search",
        **audit,
        outcome="ok",
        chunks=[{"id": c.chunk_id, "doc_id": c.doc_id, "score": round(c.score, 6)} for c in citations],
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return {"citations": [c.to_json() for c in citations]}

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from services.gateway.deps import CurrentPrincipal, RagDep
from services.gateway.limits import llm_admission
from services.gateway.schemas import QueryRequest, QueryResponse

router = APIRouter(tags=["query"])


@router.post(
    "/v1/query",
    response_model=QueryResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when stream=true"},
        429: {"description": "over the caller's rate limit or the LLM queue is full; see Retry-After"},
    },
    dependencies=[Depends(llm_admission)],
)
def query(body: QueryRequest, rag: RagDep, principal: CurrentPrincipal) -> Any:
    """Retrieve, answer from the sources with citations, guard the output; SSE when ``stream``.

    ``reveal`` (holders of ``pii:reveal`` only, audited with ``reveal_reason``) replaces the
    collection's pseudonyms in the answer by the original values.
    """
    options: dict[str, Any] = {
        "top_k": body.top_k,
        "mode": body.mode,
        "history": [t.model_dump() for t in body.history],
        "reveal": body.reveal,
        "reveal_reason": body.reveal_reason,
    }
    if body.stream:
        events = rag.stream(principal, body.collection, body.question, **options)
        return StreamingResponse(_sse(events), media_type="text/event-stream")
    return rag.answer(principal, body.collection, body.question, **options)


def _sse(events: Iterator[dict[str, Any]]) -> Iterator[str]:
    for event in events:
        yield f"data: {json.dumps(event)}\n\n"
    yield "data: [DONE]\n\n"

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from enclave_core.answering import generate_answer, stream_answer
from enclave_core.errors import DependencyUnavailable, EnclaveError
from enclave_core.identity import Principal
from enclave_core.runtime import Core
from services.gateway.deps import CoreDep, CurrentPrincipal, authorize
from services.gateway.schemas import QueryRequest, QueryResponse

router = APIRouter(tags=["query"])


def _audit_base(core: Core, principal: Principal, body: QueryRequest) -> dict[str, Any]:
    return {
        "principal": principal.name,
        "groups": sorted(principal.groups),
        "collection": body.collection,
        "question": core.redactor.redact(body.question).text,
        "model": core.settings.llm.model,
        "policy_version": core.access.version,
        "decision": "allow",
    }


def _chunks(citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": c["chunk_id"], "doc_id": c["doc_id"], "score": c["score"]} for c in citations]


@router.post(
    "/v1/query",
    response_model=QueryResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when stream=true"}},
)
def query(body: QueryRequest, request: Request, core: CoreDep, principal: CurrentPrincipal) -> Any:
    """Retrieve, answer from the sources with citations, guard the output; SSE when ``stream``."""
    started = time.perf_counter()
    authorize(core, principal, "read", body.collection, request)
    audit = _audit_base(core, principal, body)
    history = [t.model_dump() for t in body.history]
    settings = core.settings.llm
    try:
        citations = core.retriever.search(
            body.collection, body.question, principal.scope(), top_k=body.top_k, mode=body.mode
        )
    except EnclaveError as exc:
        core.audit.append("query", **audit, outcome="error", error=exc.__class__.__name__)
        raise
    if body.stream:
        events = stream_answer(
            core.llm,
            core.guard,
            body.question,
            citations,
            context_window=settings.context_window,
            max_tokens=settings.max_tokens,
            history=history,
        )
        return StreamingResponse(_sse(core, events, audit, started), media_type="text/event-stream")
    try:
        answer = generate_answer(
            core.llm,
            core.guard,
            body.question,
            citations,
            context_window=settings.context_window,
            max_tokens=settings.max_tokens,
            history=history,
        )
    except EnclaveError as exc:
        core.audit.append("query", **audit, outcome="error", error=exc.__class__.__name__)
        raise
    out = answer.to_json()
    core.audit.append(
        "query",
        **audit,
        outcome="ok",
        chunks=_chunks(out["citations"]),
        guard_redactions=answer.guard_counts,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return out


def _sse(
    core: Core, events: Iterator[dict[str, Any]], audit: dict[str, Any], started: float
) -> Iterator[str]:
    cited: list[dict[str, Any]] = []
    try:
        for event in events:
            if event["type"] == "citations":
                cited = event["citations"]
            if event["type"] == "done":
                core.audit.append(
                    "query",
                    **audit,
                    outcome="ok",
                    stream=True,
                    chunks=_chunks(cited),
                    guard_redactions=event["guard"],
                    latency_ms=round((time.perf_counter() - started) * 1000, 1),
                )
            yield f"data: {json.dumps(event)}\n\n"
    except DependencyUnavailable as exc:
        core.audit.append("query", **audit, outcome="error", stream=True, error=exc.__class__.__name__)
        error = {"type": "error", "error": "DependencyUnavailable", "detail": str(exc)}
        yield f"data: {json.dumps(error)}\n\n"
    yield "data: [DONE]\n\n"

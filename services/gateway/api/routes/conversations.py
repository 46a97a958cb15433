"""The chat UI's API: ask within a conversation (server-sent events) and the user's history.

``POST /v1/chat`` streams the same events as ``/v1/query`` (``citations``, ``delta``,
``done``, ``error``, then ``[DONE]``) plus ``conversation`` first and ``reasoning`` for
reasoning models in ``show`` mode. The turn is saved only as the redacted question and the
guarded answer (see services/gateway/conversations.py). History is per user: another
user's conversation id is simply "not found".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from enclave_core.errors import InputError
from enclave_core.identity import Principal
from enclave_core.llm import ChatMessage
from enclave_core.reasoning import filter_answer_events, profile_for_settings
from enclave_core.retrieval import validate_collection_name
from enclave_core.runtime import Core
from enclave_core.service import RagService
from enclave_core.settings import Settings
from ingest import Ingestor
from services.gateway.api.routes.openai_compat import numbered, readable_collections
from services.gateway.conversations import ConversationStore
from services.gateway.deps import CoreDep, CurrentPrincipal, IngestorDep
from services.gateway.limits import llm_admission

__all__ = ["conversation_store", "open_conversation_store", "router"]

router = APIRouter(tags=["chat"])

_STORE_LOCK = threading.Lock()
_HISTORY_TURNS = 3  # earlier question/answer pairs sent to the LLM with a new question


def open_conversation_store(app_state: Any, settings: Settings) -> ConversationStore:
    """The app's conversation store, created (and expired conversations purged) on first call."""
    store: ConversationStore | None = getattr(app_state, "enclave_conversations", None)
    if store is None:
        with _STORE_LOCK:
            store = getattr(app_state, "enclave_conversations", None)
            if store is None:
                store = ConversationStore.from_settings(settings)
                store.purge_expired()
                app_state.enclave_conversations = store
    return store


def conversation_store(request: Request, core: Core) -> ConversationStore:
    return open_conversation_store(request.app.state, core.settings)


def require_readable(core: Core, ingestor: Ingestor, principal: Principal, collection: str, path: str) -> None:
    """403 unless the collection is one the caller is offered (``GET /v1/collections``)."""
    validate_collection_name(collection)
    if collection not in readable_collections(core, ingestor, principal):
        raise RagService(core, via="ui").deny(
            principal, collection, "read", f"'{principal.name}' may not read collection '{collection}'", path=path
        )


class ChatRequest(BaseModel):
    question: str = Field(min_length=1, max_length=4000)
    collection: str = Field(min_length=1, max_length=63)
    conversation_id: str | None = Field(None, max_length=40)
    top_k: int | None = Field(None, ge=1, le=20)
    reveal: bool = Field(False, description="show original values for pseudonyms (role pii:reveal)")
    reveal_reason: str | None = Field(None, max_length=500)


def _history(conversation: dict[str, Any]) -> list[ChatMessage]:
    history: list[ChatMessage] = []
    for turn in conversation["turns"][-_HISTORY_TURNS:]:
        if turn.get("question") and turn.get("answer") and not turn.get("no_sources"):
            history.append({"role": "user", "content": turn["question"]})
            history.append({"role": "assistant", "content": turn["answer"]})
    return history


@router.post("/v1/chat", responses={200: {"content": {"text/event-stream": {}}}}, dependencies=[Depends(llm_admission)])
def chat(
    body: ChatRequest, request: Request, core: CoreDep, ingestor: IngestorDep, principal: CurrentPrincipal
) -> StreamingResponse:
    """Ask in a conversation (a new one when ``conversation_id`` is empty); server-sent events."""
    require_readable(core, ingestor, principal, body.collection, request.url.path)
    store = conversation_store(request, core)
    if body.conversation_id:
        conversation = store.get(principal.key, body.conversation_id)
        if conversation["collection"] != body.collection:
            raise InputError(f"this conversation is about collection '{conversation['collection']}'")
    else:
        conversation = store.new(body.collection)
    # Access checks and retrieval happen inside stream() before it returns (HTTP statuses).
    events = RagService(core, via="ui").stream(
        principal,
        body.collection,
        body.question,
        top_k=body.top_k,
        history=_history(conversation),
        reveal=body.reveal,
        reveal_reason=body.reveal_reason,
        llm_errors_in_stream=True,
    )
    question = core.redactor.redact(body.question).text  # what history keeps: never the raw question
    profile = profile_for_settings(core.settings.llm)
    frames = _frames(store, principal, conversation, question, filter_answer_events(events, profile))
    return StreamingResponse(frames, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def _frame(event: dict[str, Any]) -> str:
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n"


def _shown(done: dict[str, Any], released: list[str]) -> str:
    """What the user was shown, as guarded text: the streamed answer, or the quote or refusal
    that replaced an unsupported answer (``grounding.shown``; done.answer may be revealed)."""
    grounding = done.get("grounding") or {}
    if grounding.get("kind") in ("quote", "refusal") and grounding.get("shown"):
        return str(grounding["shown"])
    return "".join(released).strip()


def _frames(
    store: ConversationStore,
    principal: Principal,
    conversation: dict[str, Any],
    question: str,
    events: Iterator[dict[str, Any]],
) -> Iterator[str]:
    yield _frame({"type": "conversation", "id": conversation["id"], "saved": store.enabled})
    cited: list[dict[str, Any]] = []
    released: list[str] = []
    for event in events:
        if event["type"] == "citations":
            cited = numbered(event["citations"])
            event = {"type": "citations", "citations": cited}
        elif event["type"] == "delta":
            released.append(event["text"])
        elif event["type"] == "done":
            if event.get("evidence"):
                cited = [{**c, "evidence": ev} for c, ev in zip(cited, event["evidence"], strict=False)]
            turn = {
                "question": question,  # redacted
                # The guarded text as it was streamed: done.answer may have had pseudonyms revealed.
                "answer": _shown(event, released),
                "reasoning": event.get("reasoning", ""),  # guarded; empty unless shown
                "citations": cited,
                "model": event.get("model"),
                "no_sources": bool(event.get("no_sources")),
                "grounding": event.get("grounding"),
                "model_answer": event.get("model_answer"),
            }
            saved = store.append_turn(principal.key, conversation, turn)
            event = {**event, "conversation": {"id": saved["id"], "title": saved["title"]}}
        yield _frame(event)
    yield "data: [DONE]\n\n"


@router.get("/v1/conversations")
def list_conversations(request: Request, core: CoreDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """The caller's conversations, newest first (expired ones are deleted first)."""
    store = conversation_store(request, core)
    return {
        "conversations": store.list(principal.key),
        "retention_days": store.retention_days,
    }


@router.get("/v1/conversations/{conversation_id}")
def get_conversation(
    conversation_id: str, request: Request, core: CoreDep, ingestor: IngestorDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """One conversation. A passage whose document the caller may no longer read is withheld."""
    conversation = conversation_store(request, core).get(principal.key, conversation_id)
    collection = conversation["collection"]
    allowed = collection in readable_collections(core, ingestor, principal)
    visible = principal.groups | {"*"}
    readable_docs: dict[str, bool] = {}
    for turn in conversation["turns"]:
        for c in turn.get("citations", []):
            doc_id = c.get("doc_id", "")
            if doc_id not in readable_docs:
                record = ingestor.manifest.get(collection, doc_id) if allowed else None
                readable_docs[doc_id] = record is not None and (
                    principal.is_admin or bool(visible.intersection(record.acl))
                )
            if not readable_docs[doc_id]:
                c["text"] = ""
                c["withdrawn"] = True
    return conversation


@router.delete("/v1/conversations/{conversation_id}", status_code=204)
def delete_conversation(conversation_id: str, request: Request, core: CoreDep, principal: CurrentPrincipal) -> Response:
    conversation_store(request, core).delete(principal.key, conversation_id)
    return Response(status_code=204)

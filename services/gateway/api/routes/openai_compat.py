"""OpenAI-compatible API for intranet tools: ``/v1/models`` and ``/v1/chat/completions``.

Each collection the caller may read is a model named ``rag-<collection>`` (the plain
collection name is accepted too). A chat completion answers the last user message from
retrieval in that collection, with the earlier user/assistant turns as conversation
history; the sources are returned in a ``citations`` extension field (top level of the
completion, and of the first chunk when streaming). Authentication is the same API key
(or SSO token) as a Bearer token. Every error, authentication included, has OpenAI's shape
``{"error": {"message", "type", "param", "code"}}``.

The answer comes from the same read path as ``/v1/query`` (``RagService``: access check,
pseudonymized question, ACL-filtered retrieval, output guard, audit with ``via="openai"``).
Client ``system`` / ``developer`` messages are ignored: the appliance's grounding prompt
(answer only from the sources, cite them, treat them as data) always applies. Reasoning
models' thinking never reaches ``content``; in ``show`` mode it is returned, guarded, as
``reasoning_content`` (the field vLLM and DeepSeek use). When the LLM does not answer at all
a streamed request still gets a plain 503 with ``Retry-After``, before any byte is streamed.
Not supported: ``n`` > 1, tools, images; ``usage`` is not reported.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Coroutine, Iterator
from itertools import chain
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from enclave_core.errors import (
    DependencyUnavailable,
    EnclaveError,
    InputError,
)
from enclave_core.identity import Principal
from enclave_core.llm import ChatMessage
from enclave_core.reasoning import filter_answer_events, profile_for_settings, split_reasoning
from enclave_core.retrieval import validate_collection_name
from enclave_core.runtime import Core
from enclave_core.service import RagService
from ingest import Ingestor
from services.gateway.api.routes import collections as collections_route
from services.gateway.deps import CoreDep, CurrentPrincipal, IngestorDep
from services.gateway.errors import status_for
from services.gateway.limits import llm_admission

__all__ = [
    "MODEL_PREFIX",
    "OpenAIError",
    "is_openai_path",
    "model_id",
    "numbered",
    "openai_error_response",
    "readable_collections",
    "router",
]

log = logging.getLogger(__name__)

MODEL_PREFIX = "rag-"
_CREATED = int(time.time())
_MAX_QUESTION_CHARS = 4000
_MAX_TURN_CHARS = 20000


# --- errors in OpenAI's shape ---------------------------------------------------------------


class OpenAIError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def _from_enclave(exc: EnclaveError) -> OpenAIError:
    """The gateway's status for this error (``status_for``), in OpenAI's words."""
    retry_after = getattr(exc, "retry_after", None)  # over a rate or concurrency limit
    if retry_after is not None:
        return OpenAIError(
            429,
            str(exc),
            type_="rate_limit_error",
            code="rate_limit_exceeded",
            headers={"Retry-After": str(retry_after)},
        )
    status = status_for(exc)
    if status == 401:
        return OpenAIError(401, str(exc), code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
    if status == 403:
        return OpenAIError(403, str(exc), type_="permission_error", code="permission_denied")
    if status == 404:
        return OpenAIError(404, str(exc), code="not_found")
    if status < 500:
        return OpenAIError(status, str(exc))
    if status == 503:
        return OpenAIError(
            503, str(exc), type_="server_error", code="service_unavailable", headers={"Retry-After": "5"}
        )
    return OpenAIError(500, "internal error", type_="server_error")


def is_openai_path(path: str) -> bool:
    """The OpenAI-compatible routes, whose clients (the openai SDK) expect errors in OpenAI's shape."""
    return path == "/v1/models" or path.startswith(("/v1/models/", "/v1/chat/completions"))


def openai_error_response(exc: EnclaveError) -> JSONResponse:
    """An error raised before the route runs (authentication, body limits), in OpenAI's shape."""
    return _from_enclave(exc).response()


def _from_validation(exc: RequestValidationError) -> OpenAIError:
    errors = exc.errors()
    if not errors:
        return OpenAIError(400, "invalid request")
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    param = ".".join(loc) or None
    return OpenAIError(400, f"{param or 'body'}: {first.get('msg', 'invalid')}", param=loc[0] if loc else None)


class OpenAIRoute(APIRoute):
    """Every failure of these routes — authentication, validation, access, dependencies — is
    answered in OpenAI's error shape, which is what OpenAI clients parse."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except OpenAIError as exc:
                return exc.response()
            except RequestValidationError as exc:
                return _from_validation(exc).response()
            except EnclaveError as exc:
                error = _from_enclave(exc)
                if error.status >= 500:
                    route = getattr(request.scope.get("route"), "path", "unmatched")  # never the raw path
                    log.warning("%s %s -> %d %s", request.method, route, error.status, exc.__class__.__name__)
                return error.response()
            except HTTPException as exc:
                return OpenAIError(exc.status_code, str(exc.detail)).response()

        return handle


router = APIRouter(tags=["openai"], route_class=OpenAIRoute)


# --- shared with the chat UI routes ---------------------------------------------------------


def readable_collections(core: Core, ingestor: Ingestor, principal: Principal) -> list[str]:
    """Exactly what ``GET /v1/collections`` lists for this principal (the same function)."""
    listing: Any = collections_route.list_collections(core=core, ingestor=ingestor, principal=principal)
    return [str(c["name"]) for c in listing["collections"]]


def model_id(collection: str) -> str:
    return MODEL_PREFIX + collection


def numbered(citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Citations as the extension field carries them: ``index`` is the n of ``[n]`` in the answer."""
    return [{"index": i, **c} for i, c in enumerate(citations, start=1)]


# --- request model --------------------------------------------------------------------------


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class ChatCompletionRequest(BaseModel):
    """The subset of OpenAI's request that means something here; other fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1, max_length=80)
    messages: list[Message] = Field(min_length=1, max_length=200)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    n: int | None = Field(None, ge=1)


def _text(content: str | list[ContentPart] | None) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    texts = []
    for part in content:
        if part.type not in ("text", "input_text"):
            raise OpenAIError(400, f"content parts of type '{part.type}' are not supported", param="messages")
        texts.append(part.text or "")
    return "\n".join(texts)


def split_conversation(messages: list[Message]) -> tuple[str, list[ChatMessage]]:
    """The question (the last user message) and the user/assistant turns before it."""
    turns = [(m.role, _text(m.content)) for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise OpenAIError(400, "the last message must be a user message with text", param="messages")
    question = turns[-1][1].strip()
    if len(question) > _MAX_QUESTION_CHARS:
        raise OpenAIError(400, f"the question is longer than {_MAX_QUESTION_CHARS} characters", param="messages")
    history: list[ChatMessage] = [
        {"role": role, "content": text.strip()[:_MAX_TURN_CHARS]} for role, text in turns[:-1] if text.strip()
    ]
    return question, history


# --- routes ---------------------------------------------------------------------------------


def _resolve(core: Core, ingestor: Ingestor, principal: Principal, model: str, request: Request) -> str:
    """The collection a model name stands for, if the caller may read it; else 404 as OpenAI does."""
    readable = readable_collections(core, ingestor, principal)
    candidates = [model[len(MODEL_PREFIX) :]] if model.startswith(MODEL_PREFIX) else []
    candidates.append(model)
    for name in candidates:
        if name in readable:
            return name
    for name in candidates:
        try:
            validate_collection_name(name)
        except InputError:
            continue
        # Audited like any refusal; the answer does not say whether the collection exists.
        RagService(core, via="openai").deny(principal, name, "read", "not readable", path=request.url.path, model=model)
        break
    raise OpenAIError(
        404,
        f"The model '{model}' does not exist or you do not have access to it.",
        code="model_not_found",
        param="model",
    )


def _model_object(collection: str) -> dict[str, Any]:
    return {"id": model_id(collection), "object": "model", "created": _CREATED, "owned_by": "enclave"}


@router.get("/v1/models")
def list_models(core: CoreDep, ingestor: IngestorDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """One model per collection the caller may read."""
    return {
        "object": "list",
        "data": [_model_object(c) for c in readable_collections(core, ingestor, principal)],
    }


@router.get("/v1/models/{model}")
def retrieve_model(
    model: str, request: Request, core: CoreDep, ingestor: IngestorDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    return _model_object(_resolve(core, ingestor, principal, model, request))


@router.post("/v1/chat/completions", response_model=None, dependencies=[Depends(llm_admission)])
def chat_completions(
    body: ChatCompletionRequest,
    request: Request,
    core: CoreDep,
    ingestor: IngestorDep,
    principal: CurrentPrincipal,
) -> JSONResponse | StreamingResponse:
    """Answer the last user message from the collection's documents, with citations."""
    collection = _resolve(core, ingestor, principal, body.model, request)
    question, history = split_conversation(body.messages)
    if body.n not in (None, 1):
        raise OpenAIError(400, "only n=1 is supported", param="n")
    rag = RagService(core, via="openai")
    profile = profile_for_settings(core.settings.llm)
    completion_id = "chatcmpl-" + secrets.token_hex(12)
    created = int(time.time())
    model = model_id(collection)

    if not body.stream:
        out = rag.answer(principal, collection, question, history=history)
        # The service already separated (and guarded) any reasoning; splitting again is a no-op then.
        split = split_reasoning(out["answer"], None, profile)
        message: dict[str, Any] = {"role": "assistant", "content": split.answer.strip()}
        reasoning = (out.get("reasoning") or split.reasoning).strip()
        if profile.mode == "show" and reasoning:
            message["reasoning_content"] = reasoning
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
                "citations": numbered(out["citations"]),
                **({"grounding": out["grounding"]} if out.get("grounding") else {}),
            }
        )

    # Access checks and retrieval happen here, before the response starts (HTTP statuses).
    events = rag.stream(principal, collection, question, history=history)
    head = _until_first_answer_event(events)
    failed = next((e for e in head if e["type"] == "error"), None)
    if failed is not None and failed.get("error") == "DependencyUnavailable":
        # The LLM did not answer at all: a 503 that clients retry, not an error inside a 200.
        raise DependencyUnavailable("llm", str(failed.get("detail", "")).removeprefix("llm unavailable: "))
    frames = _sse(filter_answer_events(chain(head, events), profile), completion_id, created, model)
    return StreamingResponse(frames, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def _until_first_answer_event(events: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events up to the first one that needed the LLM (its first text, or its failure)."""
    head: list[dict[str, Any]] = []
    for event in events:
        head.append(event)
        if event["type"] != "citations":
            break
    return head


def _frame(body: dict[str, Any]) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _sse(events: Iterator[dict[str, Any]], completion_id: str, created: int, model: str) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        return _frame(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                **extra,
            }
        )

    for event in events:
        kind = event["type"]
        if kind == "citations":
            yield chunk({"role": "assistant", "content": ""}, citations=numbered(event["citations"]))
        elif kind == "delta":
            yield chunk({"content": event["text"]})
        elif kind == "reasoning":
            yield chunk({"reasoning_content": event["text"]})
        elif kind == "done":
            # Evidence checks' verdict and supporting sentences (extension fields, when they ran).
            extra = {k: event[k] for k in ("grounding", "evidence") if event.get(k) is not None}
            yield chunk({}, "stop", **extra)
        elif kind == "error":
            error = (
                _from_enclave(DependencyUnavailable("llm", ""))
                if event.get("error") == "DependencyUnavailable"
                else OpenAIError(500, "", type_="server_error")
            )
            error.message = str(event.get("detail") or "the answer could not be completed")
            yield _frame(error.body())
    yield "data: [DONE]\n\n"

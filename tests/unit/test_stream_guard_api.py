"""Attack tests of the streaming output guard through the real routes: ``POST /v1/query`` with
``stream: true`` and the OpenAI-compatible ``/v1/chat/completions`` stream.

The gateway runs in-process with the fakes of test_openai_compat for the store and retrieval, but
with the real redactor as the output guard and the real LLM client (``LLMClient``, the ``openai``
library), whose HTTP transport replays a scripted vLLM stream: the model "leaks" personal values
split into small tokens, at every character of a value. No released event may carry a value, and
the events joined must be exactly the guarded whole answer.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from enclave_core.keys import KeyStore
from enclave_core.llm import LLMClient
from services.gateway.api.routes import openai_compat, query
from services.gateway.deps import AppState
from services.gateway.errors import install_error_handlers
from tests.conftest import make_settings
from tests.unit.test_openai_compat import FakeCore, FakeIngestor, sse, write_retention

LEAKY = (
    "The forms are kept by Margit Halvorsen (+47 934 12 877, margit.halvorsen@nordvik.corp.local) in procurement [2]."
)
VALUES = ["Margit", "Halvorsen", "+47 934 12 877", "934 12", "margit.halvorsen@nordvik.corp.local", "nordvik"]


def vllm_stream(tokens: list[str]) -> bytes:
    """What vLLM's OpenAI server sends for a streamed chat completion."""
    frames = []
    for token in tokens:
        chunk = {
            "id": "chatcmpl-x",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "served-model",
            "choices": [{"index": 0, "delta": {"content": token}, "finish_reason": None}],
        }
        frames.append(f"data: {json.dumps(chunk)}\n\n")
    usage = {"prompt_tokens": 50, "completion_tokens": len(tokens), "total_tokens": 50 + len(tokens)}
    last = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": []}
    frames.append(f"data: {json.dumps({**last, 'usage': usage})}\n\ndata: [DONE]\n\n")
    return "".join(frames).encode()


@dataclasses.dataclass
class Gateway:
    http: TestClient
    key: str
    core: FakeCore
    tokens: list[str] = dataclasses.field(default_factory=list)
    requests: int = 0


@pytest.fixture
def gateway(tmp_path: Path, redactor: Any) -> Iterator[Gateway]:
    write_retention(tmp_path / "policies", 30)
    limits = tmp_path / "policies" / "limits.yaml"  # one test user sends a request per split position
    limits.write_text(
        limits.read_text().replace("      unlimited: true", "      unlimited: true\n    alice:\n      unlimited: true")
    )
    settings = make_settings(
        tmp_path / "data", ENCLAVE_POLICIES_DIR=str(tmp_path / "policies"), ENCLAVE_LLM__PROMPT_PROFILE="instruct"
    )
    core = FakeCore(settings)
    core.redactor = redactor  # the real output guard
    store = KeyStore(settings.secrets_dir / "api-keys.json")
    key = store.create("alice", ["staff"], [])[1]
    app = FastAPI()
    install_error_handlers(app)
    for module in (query, openai_compat):
        app.include_router(module.router)
    parts: dict[str, Any] = {"core": core, "ingestor": FakeIngestor(), "keys": store}
    app.state.enclave = AppState(**{f.name: parts.get(f.name) for f in dataclasses.fields(AppState)})  # type: ignore[arg-type]
    with TestClient(app) as http:
        gw = Gateway(http, key, core)

        def vllm(request: httpx.Request) -> httpx.Response:
            gw.requests += 1
            assert json.loads(request.read())["stream"] is True
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=vllm_stream(gw.tokens))

        transport = httpx.Client(transport=httpx.MockTransport(vllm))
        core.llm = LLMClient(settings.llm, http_client=transport)  # type: ignore[assignment]
        yield gw


def tokens_split_at(text: str, cut: int) -> list[str]:
    """vLLM-like tokens (a leading space, a few characters) with a token boundary at ``cut``."""
    out: list[str] = []
    for part in (text[:cut], text[cut:]):
        i = 0
        while i < len(part):
            out.append(part[i : i + 3])
            i += 3
    return out


def assert_never_released(deltas: list[str], values: list[str] = VALUES) -> None:
    released = ""
    for delta in deltas:
        released += delta
        for value in values:
            assert value not in released, f"{value!r} released: {released!r}"


def query_stream(gw: Gateway, question: str = "Who keeps the forms?") -> list[Any]:
    r = gw.http.post(
        "/v1/query",
        json={"question": question, "collection": "handbook", "stream": True},
        headers={"Authorization": f"Bearer {gw.key}"},
    )
    assert r.status_code == 200, r.text
    return sse(r.text)


def test_query_stream_never_sends_a_value_split_anywhere(gateway: Gateway, redactor: Any) -> None:
    whole = redactor.redact(LEAKY).text
    start = LEAKY.index("Margit")
    for cut in range(start, start + len("Margit Halvorsen") + 1):
        gateway.tokens = tokens_split_at(LEAKY, cut)
        events = query_stream(gateway)
        deltas = [e["text"] for e in events if isinstance(e, dict) and e.get("type") == "delta"]
        assert_never_released(deltas)
        done = next(e for e in events if isinstance(e, dict) and e.get("type") == "done")
        assert "".join(deltas).strip() == done["answer"] == whole, cut
        assert done["guard"] == redactor.redact(LEAKY).counts
    assert len(deltas) > 3  # released word by word, not as one block at the end


def test_openai_stream_never_sends_a_value_split_anywhere(gateway: Gateway, redactor: Any) -> None:
    whole = redactor.redact(LEAKY).text
    for cut in range(LEAKY.index("+47"), LEAKY.index(", margit")):
        gateway.tokens = tokens_split_at(LEAKY, cut)
        r = gateway.http.post(
            "/v1/chat/completions",
            json={"model": "rag-handbook", "messages": [{"role": "user", "content": "Who?"}], "stream": True},
            headers={"Authorization": f"Bearer {gateway.key}"},
        )
        assert r.status_code == 200, r.text
        chunks = [c for c in sse(r.text) if isinstance(c, dict)]
        deltas = [c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices")]
        assert_never_released(deltas)
        assert "".join(deltas).strip() == whole, cut


def test_the_first_words_leave_before_the_answer_is_complete(gateway: Gateway) -> None:
    gateway.tokens = tokens_split_at(LEAKY, 10)
    events = [e for e in query_stream(gateway) if isinstance(e, dict)]
    deltas = [e["text"] for e in events if e.get("type") == "delta"]
    assert deltas[0] == "The "  # with the model's second token, not with its last
    assert gateway.requests == 1


LEAKY_JA = (
    "申請書は山田太郎さんが保管しています、連絡先は090-1234-5678です。提出は総務部の窓口で受け付けます［2］。"
    "受付の時間は平日の午前九時から午後五時までで、土日と祝日は休みとなります。"
)
VALUES_JA = ["山田", "太郎", "090-1234-5678", "090-1234", "1234-5678"]


def test_a_japanese_answer_streams_by_clause_and_never_sends_a_value_split_anywhere(
    gateway: Gateway, redactor: Any
) -> None:
    whole = redactor.redact(LEAKY_JA).text
    for value in ("山田太郎", "090-1234-5678"):
        start = LEAKY_JA.index(value)
        for cut in range(start, start + len(value) + 1):
            gateway.tokens = tokens_split_at(LEAKY_JA, cut)
            events = query_stream(gateway, "申請書は誰が保管していますか？")
            deltas = [e["text"] for e in events if isinstance(e, dict) and e.get("type") == "delta"]
            assert_never_released(deltas, VALUES_JA)
            done = next(e for e in events if isinstance(e, dict) and e.get("type") == "done")
            assert "".join(deltas).strip() == done["answer"] == whole, cut
            assert len(deltas) > 1  # clause by clause, not one block at the end


def test_a_japanese_openai_stream_never_sends_a_value_split_anywhere(gateway: Gateway, redactor: Any) -> None:
    whole = redactor.redact(LEAKY_JA).text
    for cut in range(LEAKY_JA.index("山田"), LEAKY_JA.index("さん") + 1):
        gateway.tokens = tokens_split_at(LEAKY_JA, cut)
        r = gateway.http.post(
            "/v1/chat/completions",
            json={"model": "rag-handbook", "messages": [{"role": "user", "content": "誰ですか？"}], "stream": True},
            headers={"Authorization": f"Bearer {gateway.key}"},
        )
        assert r.status_code == 200, r.text
        chunks = [c for c in sse(r.text) if isinstance(c, dict)]
        deltas = [c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices")]
        assert_never_released(deltas, VALUES_JA)
        assert "".join(deltas).strip() == whole, cut
        assert len([d for d in deltas if d]) > 1

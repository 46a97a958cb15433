"""The OpenAI-compatible API as an intranet tool uses it: the official ``openai`` client and
LlamaIndex ``OpenAILike``, against the real gateway, the real ingest path and the real CPU vLLM
(SmolLM2-135M: its answers are weak, so only the mechanics are asserted)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.browser.appliance import Appliance, running_appliance
from tests.conftest import VLLMServer

pytestmark = pytest.mark.e2e

LEAVE = "How many unused vacation days am I allowed to roll over into the next year?"
MILEAGE = "How much do I get back per mile when I use my own vehicle for a work trip?"


@pytest.fixture(scope="module")
def app(vllm: VLLMServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    with running_appliance(tmp_path_factory.mktemp("openai-api"), vllm.url) as appliance:
        yield appliance


def client(app: Appliance, user: str = "alice", key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{app.url}/v1", api_key=key or app.keys[user], timeout=300, max_retries=0)


def sources(citations: list[dict[str, Any]]) -> list[str]:
    return [c["source"] for c in citations]


def test_models_are_the_collections_each_user_may_read(app: Appliance) -> None:
    assert [m.id for m in client(app, "alice").models.list()] == ["rag-handbook"]
    assert [m.id for m in client(app, "bob").models.list()] == ["rag-finance"]
    with pytest.raises(openai.NotFoundError):
        client(app, "alice").models.retrieve("rag-finance")


def test_official_client_answers_with_citations(app: Appliance) -> None:
    r = client(app).chat.completions.create(
        model="rag-handbook", messages=[{"role": "user", "content": LEAVE}], max_tokens=64
    )
    assert r.choices[0].message.content and r.choices[0].message.content.strip()
    assert "<think>" not in r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop" and r.model == "rag-handbook"
    citations = (r.model_extra or {})["citations"]
    assert citations and citations[0]["index"] == 1
    assert "annual-leave-policy.md" in sources(citations)[:3]
    assert all(c["text"] and c["chunk_id"] and c["doc_id"] for c in citations)
    assert "procurement-and-purchase-approval.md" not in sources(citations)  # finance is not alice's


def test_official_client_streams_an_answer_with_citations(app: Appliance) -> None:
    started = time.monotonic()
    stream = client(app).chat.completions.create(
        model="rag-handbook",
        messages=[
            {"role": "user", "content": "Who pays for my trips to conferences?"},
            {"role": "assistant", "content": "The hospital reimburses approved business travel [1]."},
            {"role": "user", "content": MILEAGE},
        ],
        stream=True,
    )
    arrivals: list[tuple[float, Any]] = [(time.monotonic() - started, chunk) for chunk in stream]
    chunks = [c for _, c in arrivals]
    assert len(chunks) >= 3, chunks  # role + citations, content, finish
    first = chunks[0]
    assert first.choices[0].delta.role == "assistant"
    citations = (first.model_extra or {})["citations"]
    assert "travel-reimbursement-guidelines.pdf" in sources(citations)[:3]
    pdf = next(c for c in citations if c["source"] == "travel-reimbursement-guidelines.pdf")
    assert pdf["page"] in (1, 2)
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert content.strip() and "<think>" not in content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len({c.id for c in chunks}) == 1


def test_llamaindex_openailike_chat_and_stream(app: Appliance) -> None:
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(
        model="rag-handbook",
        api_base=f"{app.url}/v1",
        api_key=app.keys["alice"],
        is_chat_model=True,
        is_function_calling_model=False,
        context_window=4096,
        max_tokens=64,
        timeout=300,
        max_retries=0,
    )
    response = llm.chat([ChatMessage(role="user", content=LEAVE)])
    assert response.message.content and response.message.content.strip()
    raw = response.raw
    extra = raw.get("citations") if isinstance(raw, dict) else (raw.model_extra or {}).get("citations")
    assert extra and "annual-leave-policy.md" in sources(extra)[:3]

    deltas = []
    first_raw: Any = None
    for part in llm.stream_chat([ChatMessage(role="user", content=MILEAGE)]):
        first_raw = first_raw if first_raw is not None else part.raw
        deltas.append(part.delta or "")
    assert "".join(deltas).strip()
    extra = (
        first_raw.get("citations") if isinstance(first_raw, dict) else (first_raw.model_extra or {}).get("citations")
    )
    assert extra and "travel-reimbursement-guidelines.pdf" in sources(extra)[:3]


def test_forbidden_collection_cannot_be_asked(app: Appliance) -> None:
    for model in ("rag-finance", "finance"):
        with pytest.raises(openai.NotFoundError) as err:
            client(app, "alice").chat.completions.create(model=model, messages=[{"role": "user", "content": "Bids?"}])
        assert err.value.code == "model_not_found"


def test_errors_have_openai_shape(app: Appliance) -> None:
    with pytest.raises(openai.AuthenticationError) as auth:
        client(app, key="enc_not-a-key").models.list()
    assert auth.value.code == "invalid_api_key"
    with pytest.raises(openai.BadRequestError) as bad:
        client(app).chat.completions.create(model="rag-handbook", messages=[])
    assert bad.value.param == "messages"
    r = httpx.post(f"{app.url}/v1/chat/completions", json={"model": "rag-handbook"}, timeout=30)
    assert r.status_code == 401 and set(r.json()["error"]) == {"message", "type", "param", "code"}


def test_llm_unavailable_is_a_503_the_client_can_retry(tmp_path: Path) -> None:
    """A gateway whose LLM is down (nothing listens on its URL): a clear, retryable error."""
    with running_appliance(
        tmp_path, "http://127.0.0.1:9/v1", {"handbook": ("alice", "staff", ["annual-leave-policy.md"])}
    ) as down:
        for stream in (False, True):
            with pytest.raises(openai.InternalServerError) as err:
                out = client(down).chat.completions.create(
                    model="rag-handbook", messages=[{"role": "user", "content": LEAVE}], stream=stream
                )
                if stream:
                    list(out)
            assert err.value.status_code == 503
            assert err.value.response.headers["retry-after"]

"""Tests for enclave_core.llm.LLMClient against httpx.MockTransport (no server, no network)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from pydantic import SecretStr

from enclave_core.errors import DependencyUnavailable
from enclave_core.llm import Completion, LLMClient
from enclave_core.settings import LLMSettings

URL = "http://llm.test:8001/v1"
MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]


def llm_settings(**kw: Any) -> LLMSettings:
    base: dict[str, Any] = {
        "url": URL,
        "model": "test-model",
        "api_key": SecretStr("k-123"),
        "max_tokens": 77,
    }
    base.update(kw)
    return LLMSettings(**base)


class Recorder:
    """A MockTransport handler that records requests and answers with a function of the request."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    def client(self, **kw: Any) -> LLMClient:
        return LLMClient(llm_settings(**kw), http_client=httpx.Client(transport=httpx.MockTransport(self)))

    def body(self, n: int = 0) -> dict[str, Any]:
        return json.loads(self.requests[n].content)


def completion_json(content: str | None = "Hello [1].", usage: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "served-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    }
    if usage:
        body["usage"] = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
    return body


def chunk(content: str | None, role: str | None = None, finish: str | None = None) -> bytes:
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    event = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "served-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(event).encode() + b"\n\n"


def sse(*events: bytes) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=b"".join(events))


# -- complete() -------------------------------------------------------------------------------------


def test_complete_parses_a_chat_completion() -> None:
    rec = Recorder(lambda r: httpx.Response(200, json=completion_json()))
    result = rec.client().complete(MESSAGES)
    assert result == Completion("Hello [1].", "served-model", 12, 3)
    (request,) = rec.requests
    assert request.method == "POST"
    assert str(request.url) == f"{URL}/chat/completions"
    assert request.headers["authorization"] == "Bearer k-123"
    body = rec.body()
    assert body["model"] == "test-model"
    assert body["messages"] == MESSAGES
    assert body["max_tokens"] == 77  # from the settings when not given
    assert body["temperature"] == 0.1
    assert "stream" not in body or body["stream"] is False


def test_complete_max_tokens_argument_wins() -> None:
    rec = Recorder(lambda r: httpx.Response(200, json=completion_json()))
    rec.client().complete(MESSAGES, max_tokens=5)
    assert rec.body()["max_tokens"] == 5


@pytest.mark.parametrize(
    ("content", "usage", "expected"),
    [
        (None, True, Completion("", "served-model", 12, 3)),
        ("", True, Completion("", "served-model", 12, 3)),
        ("x", False, Completion("x", "served-model", None, None)),
    ],
)
def test_complete_edge_responses(content: str | None, usage: bool, expected: Completion) -> None:
    rec = Recorder(lambda r: httpx.Response(200, json=completion_json(content, usage)))
    assert rec.client().complete(MESSAGES) == expected


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_complete_server_unavailable_statuses(status: int) -> None:
    rec = Recorder(lambda r: httpx.Response(status, json={"error": {"message": "busy"}}))
    with pytest.raises(DependencyUnavailable) as info:
        rec.client().complete(MESSAGES)
    assert info.value.dependency == "llm"
    assert URL in info.value.detail
    assert len(rec.requests) == 1  # the client never retries on its own


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, openai.BadRequestError), (401, openai.AuthenticationError), (404, openai.NotFoundError)],
)
def test_complete_client_errors_are_not_reported_as_unavailable(status: int, error: type[Exception]) -> None:
    rec = Recorder(lambda r: httpx.Response(status, json={"error": {"message": "no"}}))
    with pytest.raises(error):
        rec.client().complete(MESSAGES)


@pytest.mark.parametrize(
    ("exc", "name"),
    [
        (httpx.ConnectError("refused"), "APIConnectionError"),
        (httpx.ReadTimeout("slow"), "APITimeoutError"),
        (httpx.RemoteProtocolError("closed"), "APIConnectionError"),
    ],
)
def test_complete_transport_errors_are_unavailable(exc: Exception, name: str) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise exc

    rec = Recorder(boom)
    with pytest.raises(DependencyUnavailable) as info:
        rec.client().complete(MESSAGES)
    assert str(info.value) == f"llm unavailable: {URL}: {name}"
    assert len(rec.requests) == 1


def test_model_property() -> None:
    assert Recorder(lambda r: httpx.Response(200)).client(model="m2").model == "m2"


# -- stream() -------------------------------------------------------------------------------------


def test_stream_yields_the_deltas() -> None:
    rec = Recorder(
        lambda r: sse(
            chunk("", role="assistant"),
            chunk("Hel"),
            chunk("lo"),
            chunk(None),  # no content
            chunk(" [1]."),
            chunk(None, finish="stop"),
            b"data: [DONE]\n\n",
        )
    )
    assert list(rec.client().stream(MESSAGES, max_tokens=9)) == ["Hel", "lo", " [1]."]
    body = rec.body()
    assert body["stream"] is True
    assert body["max_tokens"] == 9
    assert body["model"] == "test-model"


def test_stream_with_no_content() -> None:
    rec = Recorder(lambda r: sse(chunk("", role="assistant"), b"data: [DONE]\n\n"))
    assert list(rec.client().stream(MESSAGES)) == []


@pytest.mark.parametrize("status", [500, 503, 504])
def test_stream_server_errors_are_unavailable(status: int) -> None:
    rec = Recorder(lambda r: httpx.Response(status, json={"error": {"message": "down"}}))
    with pytest.raises(DependencyUnavailable):
        list(rec.client().stream(MESSAGES))


def test_stream_rate_limited_is_unavailable() -> None:
    rec = Recorder(lambda r: httpx.Response(429, json={"error": {"message": "busy"}}))
    with pytest.raises(DependencyUnavailable):
        list(rec.client().stream(MESSAGES))


def test_stream_connection_error_is_unavailable() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(DependencyUnavailable, match="APIConnectionError"):
        list(Recorder(boom).client().stream(MESSAGES))


class _DiesMidway(httpx.SyncByteStream):
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def __iter__(self) -> Iterator[bytes]:
        yield chunk("partial")
        raise self.exc


@pytest.mark.parametrize("exc", [httpx.ReadError("peer closed"), httpx.ReadTimeout("hung")])
def test_stream_dying_midway_is_unavailable_after_the_first_deltas(exc: Exception) -> None:
    rec = Recorder(
        lambda r: httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=_DiesMidway(exc))
    )
    got: list[str] = []
    with pytest.raises(DependencyUnavailable):
        for delta in rec.client().stream(MESSAGES):
            got.append(delta)
    assert got == ["partial"]


# -- check() ---------------------------------------------------------------------------------------


class FakeGet:
    def __init__(self, response: httpx.Response | Exception) -> None:
        self.response = response
        self.calls: list[tuple[str, dict[str, str], float]] = []

    def __call__(self, url: str, headers: dict[str, str], timeout: float) -> httpx.Response:
        self.calls.append((url, headers, timeout))
        if isinstance(self.response, Exception):
            raise self.response
        self.response.request = httpx.Request("GET", url)
        return self.response


def models_response(*ids: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"object": "list", "data": [{"id": i, "object": "model"} for i in ids]})


@pytest.mark.parametrize("url", [URL, URL + "/"])
def test_check_passes_when_the_model_is_served(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    fake = FakeGet(models_response("other", "test-model"))
    monkeypatch.setattr("enclave_core.llm.httpx.get", fake)
    LLMClient(llm_settings(url=url, health_timeout_s=0.7)).check()
    assert fake.calls == [(f"{URL}/models", {"Authorization": "Bearer k-123"}, 0.7)]


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (models_response("other-model"), "model 'test-model' not served"),
        (models_response(), "not served"),
        (httpx.Response(200, json={"object": "list"}), "not served"),
        (models_response("test-model", status=503), "HTTPStatusError"),
        (models_response("test-model", status=401), "HTTPStatusError"),
        (httpx.ConnectError("refused"), "ConnectError"),
        (httpx.ReadTimeout("slow"), "ReadTimeout"),
    ],
)
def test_check_failures_are_unavailable(
    monkeypatch: pytest.MonkeyPatch, response: httpx.Response | Exception, message: str
) -> None:
    monkeypatch.setattr("enclave_core.llm.httpx.get", FakeGet(response))
    with pytest.raises(DependencyUnavailable, match=message) as info:
        LLMClient(llm_settings()).check()
    assert info.value.dependency == "llm"


def test_check_non_json_answer_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("enclave_core.llm.httpx.get", FakeGet(httpx.Response(200, text="<html>hello</html>")))
    with pytest.raises(DependencyUnavailable):
        LLMClient(llm_settings()).check()


def test_check_against_a_closed_local_port_fails_fast() -> None:
    client = LLMClient(llm_settings(url="http://127.0.0.1:9/v1", health_timeout_s=1.0))
    started = time.monotonic()
    with pytest.raises(DependencyUnavailable) as info:
        client.check()
    assert time.monotonic() - started < 3.0
    assert "127.0.0.1:9" in str(info.value)

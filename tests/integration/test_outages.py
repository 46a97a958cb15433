"""Dependency outages against the real gateway: the LLM (a fake OpenAI-compatible server behind a
fault-injecting TCP proxy) and the vector store (a Qdrant URL that hangs, resets or refuses)
go away; requests fail fast with 503, Retry-After and a message naming the dependency,
``/readyz`` says which one is missing, and everything comes back without a restart.

Bounds (settings): ``llm.health_timeout_s`` = 1 s for /readyz, ``llm.timeout_s`` = 3 s for a
generation, ``vector_store.timeout_s`` = 1 s. The real-vLLM stop/start is tests/e2e/test_vllm_restart.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from enclave_core.audit import AuditLog
from enclave_core.settings import Settings
from tests.conftest import free_port, make_settings
from tests.integration.faults import (
    FakeLLM,
    FaultProxy,
    RunningGateway,
    admin_key,
    policies_with_limits,
    serve_gateway,
)

HEALTH_BOUND_S = 1.5  # /readyz: health_timeout_s (1 s) plus the gateway's own work
LLM_TIMEOUT_S = 3.0
STORE_TIMEOUT_S = 1.0
SLACK_S = 1.0  # scheduling noise on a loaded 2-core machine
QUESTION = {"question": "How many weeks of parental leave do employees get?", "collection": "handbook"}


@dataclass
class Env:
    gateway: RunningGateway
    settings: Settings
    key: str
    proxy: FaultProxy
    llm: FakeLLM

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.gateway.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=60)


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = fn(*args, **kwargs)
    return response, time.monotonic() - started


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, embedder: Any, redactor: Any) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("outages")
    with FakeLLM() as llm:
        proxy = FaultProxy(llm.port)
        settings = make_settings(
            root / "data",
            f"{proxy.url}/v1",
            ENCLAVE_POLICIES_DIR=str(policies_with_limits(root)),
            ENCLAVE_LLM__TIMEOUT_S=str(LLM_TIMEOUT_S),
            ENCLAVE_LLM__CONNECT_TIMEOUT_S="1",
            ENCLAVE_LLM__HEALTH_TIMEOUT_S="1",
        )
        key = admin_key(settings)
        try:
            with serve_gateway(settings, embedder, redactor) as gateway:
                env = Env(gateway, settings, key, proxy, llm)
                with env.client() as client:
                    doc = b"# Parental leave\n\nEmployees get 16 weeks of paid parental leave."
                    upload = client.post(
                        "/v1/collections/handbook/documents", files=[("files", ("leave.md", doc))], data={"groups": "*"}
                    )
                    assert upload.status_code == 200 and upload.json()["ingested"] == 1, upload.text
                yield env
        finally:
            proxy.close()


@pytest.fixture
def client(env: Env) -> Iterator[httpx.Client]:
    env.proxy.set("pass")
    with env.client() as client:
        yield client
    env.proxy.set("pass")


def assert_unavailable(response: httpx.Response, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert f"{dependency} unavailable" in response.text, response.text


def test_all_ready_when_everything_answers(client: httpx.Client) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"ready": True, "checks": {"vector_store": "ok", "llm": "ok"}}
    answer = client.post("/v1/query", json=QUESTION)
    assert answer.status_code == 200 and answer.json()["citations"], answer.text


@pytest.mark.parametrize("mode", ["hang", "delay", "drop"])
def test_readyz_names_the_llm_within_the_health_timeout(env: Env, client: httpx.Client, mode: str) -> None:
    env.proxy.set(mode, delay_s=2.0)  # type: ignore[arg-type]
    ready, elapsed = timed(client.get, "/readyz")
    assert ready.status_code == 503, ready.text
    assert ready.headers["Retry-After"]
    checks = ready.json()["checks"]
    assert checks["vector_store"] == "ok"
    assert checks["llm"].startswith("unavailable"), checks
    assert elapsed < HEALTH_BOUND_S + SLACK_S * 0.5, f"/readyz took {elapsed:.2f} s with the LLM in '{mode}' mode"


def test_query_fails_fast_with_503_when_the_llm_drops_connections(env: Env, client: httpx.Client) -> None:
    env.proxy.set("drop")
    response, elapsed = timed(client.post, "/v1/query", json=QUESTION)
    assert_unavailable(response, "llm")
    assert response.json()["error"] == "DependencyUnavailable"
    assert elapsed < 1.0 + SLACK_S
    # Retrieval does not need the LLM: search keeps working during the outage.
    search = client.post("/v1/search", json=QUESTION)
    assert search.status_code == 200 and search.json()["citations"]


def test_a_hanging_llm_is_cut_off_at_the_generation_timeout(env: Env, client: httpx.Client) -> None:
    env.proxy.set("hang")
    response, elapsed = timed(client.post, "/v1/query", json=QUESTION)
    assert_unavailable(response, "llm")
    assert "Timeout" in response.json()["detail"]
    assert LLM_TIMEOUT_S - 0.5 < elapsed < LLM_TIMEOUT_S + SLACK_S, f"took {elapsed:.2f} s"


def test_openai_compatible_endpoint_answers_503_in_openai_shape(env: Env, client: httpx.Client) -> None:
    env.proxy.set("drop")
    body = {"model": "rag-handbook", "messages": [{"role": "user", "content": QUESTION["question"]}]}
    for stream in (False, True):
        response, elapsed = timed(client.post, "/v1/chat/completions", json={**body, "stream": stream})
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"]
        error = response.json()["error"]
        assert error["code"] == "service_unavailable" and "llm unavailable" in error["message"]
        assert elapsed < 1.0 + SLACK_S


def test_streamed_query_answers_503_when_the_llm_is_down(env: Env, client: httpx.Client) -> None:
    env.proxy.set("drop")
    response = client.post("/v1/query", json={**QUESTION, "stream": True})
    assert_unavailable(response, "llm")


def test_recovers_without_a_restart_and_writes_nothing_half_way(env: Env, client: httpx.Client) -> None:
    audit = AuditLog(env.settings.audit_dir, env.settings.audit_signing_key)
    start = len(list(audit.records()))
    env.proxy.set("drop")
    assert_unavailable(client.post("/v1/query", json=QUESTION), "llm")
    assert client.get("/readyz").status_code == 503
    before = env.llm.completions
    env.proxy.set("pass")  # the LLM is back
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    answer = client.post("/v1/query", json=QUESTION)
    assert answer.status_code == 200, answer.text
    assert answer.json()["answer"] == env.llm.answer and answer.json()["citations"]
    assert env.llm.completions == before + 1
    streamed = client.post("/v1/query", json={**QUESTION, "stream": True})
    events = [json.loads(line[6:]) for line in streamed.text.splitlines() if line.startswith("data: {")]
    assert [e["type"] for e in events][-1] == "done"
    # The failed query is audited as an error, the later ones as ok; the chain is intact.
    records = [r for r in list(audit.records())[start:] if r["action"] == "query"]
    assert [r["outcome"] for r in records] == ["error", "ok", "ok"]
    assert records[0]["error"] == "DependencyUnavailable"
    assert audit.verify().ok


# --- the vector store -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def store_down(tmp_path_factory: pytest.TempPathFactory, embedder: Any, redactor: Any) -> Iterator[dict[str, Any]]:
    """A gateway whose Qdrant server URL points at a proxy (hang or reset) with nothing behind it."""
    root = tmp_path_factory.mktemp("store-down")
    proxy = FaultProxy(free_port())  # its target never listens
    with FakeLLM() as llm:
        settings = make_settings(
            root / "data",
            llm.url,
            QDRANT_URL=proxy.url,
            ENCLAVE_VECTOR_STORE__TIMEOUT_S=str(STORE_TIMEOUT_S),
            ENCLAVE_POLICIES_DIR=str(policies_with_limits(root)),
        )
        key = admin_key(settings)
        try:
            with serve_gateway(settings, embedder, redactor) as gateway:
                yield {"gateway": gateway, "key": key, "proxy": proxy, "settings": settings}
        finally:
            proxy.close()


@pytest.mark.parametrize("mode", ["hang", "drop"])
def test_a_dead_vector_store_gives_503_quickly(store_down: dict[str, Any], mode: str) -> None:
    store_down["proxy"].set(mode)
    headers = {"Authorization": f"Bearer {store_down['key']}"}
    with httpx.Client(base_url=store_down["gateway"].url, headers=headers, timeout=60) as client:
        ready, elapsed = timed(client.get, "/readyz")
        assert ready.status_code == 503, ready.text
        checks = ready.json()["checks"]
        assert checks["vector_store"].startswith("unavailable") and checks["llm"] == "ok", checks
        assert elapsed < HEALTH_BOUND_S + SLACK_S * 0.5, f"/readyz took {elapsed:.2f} s"
        search, elapsed = timed(client.post, "/v1/search", json=QUESTION)
        assert_unavailable(search, "vector store")
        assert elapsed < STORE_TIMEOUT_S + SLACK_S, f"/v1/search took {elapsed:.2f} s"
        query, elapsed = timed(client.post, "/v1/query", json=QUESTION)
        assert_unavailable(query, "vector store")
        assert elapsed < STORE_TIMEOUT_S + SLACK_S

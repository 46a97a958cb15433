"""The audit link: one request followed from its ``X-Request-ID`` response header to
``enclave audit show``, which names the retrieved chunks and the SHA-256 of the answer exactly as
the client received it - whole or streamed, on the REST API and on the OpenAI-compatible API.

A real gateway (uvicorn, Presidio, embeddings, embedded Qdrant) and a scripted LLM
(tests/integration/faults.FakeLLM): the test is about the trail, not about answer quality."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from enclave_cli import main as cli
from enclave_core.requestctx import REQUEST_ID_HEADER
from enclave_core.settings import Settings
from tests.conftest import make_settings
from tests.integration.faults import FakeLLM, admin_key, policies_with_limits, serve_gateway

# The output guard redacts the phone number; the question's name is pseudonymized before the audit.
ANSWER = "Employees get 16 weeks of paid parental leave [1]. Questions go to 212-555-0147."
QUESTION = "How many weeks of parental leave does Jane Miller get?"


@dataclass
class Env:
    url: str
    settings: Settings
    key: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=120)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, embedder: Any, redactor: Any) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("audit-link")
    with FakeLLM(answer=ANSWER) as llm:
        settings = make_settings(root / "data", llm.url, ENCLAVE_POLICIES_DIR=str(policies_with_limits(root)))
        key = admin_key(settings)
        with serve_gateway(settings, embedder, redactor) as gateway:
            env = Env(gateway.url, settings, key)
            with env.client() as client:
                doc = b"# Parental leave\n\nEmployees get 16 weeks of paid parental leave."
                response = client.post(
                    "/v1/collections/handbook/documents", files=[("files", ("leave.md", doc))], data={"groups": "*"}
                )
                assert response.status_code == 200 and response.json()["ingested"] == 1, response.text
            yield env


def _sse(response: httpx.Response) -> list[dict[str, Any]]:
    lines = [line[len("data: ") :] for line in response.iter_lines() if line.startswith("data: ")]
    return [json.loads(line) for line in lines if line != "[DONE]"]


@dataclass
class Delivered:
    """What the client received: the answer (whole, or ``done``'s), the stream's deltas joined."""

    response: httpx.Response
    answer: str | None  # None: this API sends no final answer text (an OpenAI stream)
    streamed: str | None  # None: not streamed
    chunk_ids: list[str]


def _rest(client: httpx.Client, stream: bool, rid: str) -> Delivered:
    body = {"question": QUESTION, "collection": "handbook", "stream": stream}
    response = client.post("/v1/query", json=body, headers={REQUEST_ID_HEADER: rid})
    assert response.status_code == 200, response.text
    if not stream:
        out = response.json()
        return Delivered(response, out["answer"], None, [c["chunk_id"] for c in out["citations"]])
    events = _sse(response)
    streamed = "".join(e["text"] for e in events if e["type"] == "delta")
    cited = next(e["citations"] for e in events if e["type"] == "citations")
    done = next(e for e in events if e["type"] == "done")
    return Delivered(response, done["answer"], streamed, [c["chunk_id"] for c in cited])


def _openai(client: httpx.Client, stream: bool, rid: str) -> Delivered:
    body = {"model": "handbook", "messages": [{"role": "user", "content": QUESTION}], "stream": stream}
    response = client.post("/v1/chat/completions", json=body, headers={REQUEST_ID_HEADER: rid})
    assert response.status_code == 200, response.text
    if not stream:
        out = response.json()
        content = out["choices"][0]["message"]["content"]
        return Delivered(response, content, None, [c["chunk_id"] for c in out["citations"]])
    chunks = _sse(response)
    streamed = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    cited = next(c["citations"] for c in chunks if "citations" in c)
    return Delivered(response, None, streamed, [c["chunk_id"] for c in cited])


def sha256(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()


def _audit_show(settings: Settings, rid: str, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> list[dict[str, Any]]:
    monkeypatch.setattr(cli, "load_settings", lambda: settings)
    capsys.readouterr()
    assert cli.main(["audit", "show", rid, "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize(
    ("api", "stream"), [("rest", False), ("rest", True), ("openai", False), ("openai", True)], ids=str
)
def test_a_request_is_followed_from_its_header_to_its_chunks_and_answer_hash(
    env: Env, api: str, stream: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sent = f"link-{api}-{'stream' if stream else 'whole'}-0001"
    with env.client() as client:
        got = (_rest if api == "rest" else _openai)(client, stream, sent)
    rid = got.response.headers[REQUEST_ID_HEADER]
    assert rid == sent  # a plain caller-supplied id is kept
    texts = [t for t in (got.answer, got.streamed) if t is not None]
    assert texts and all(t.strip() and "212-555-0147" not in t for t in texts) and got.chunk_ids

    chain = _audit_show(env.settings, rid, monkeypatch, capsys)
    actions = [r["action"] for r in chain]
    assert actions == (["query.sources"] if stream else []) + ["query", "guard.redacted"]
    assert all(r["request_id"] == rid and r["principal"] == "root" and r["collection"] == "handbook" for r in chain)
    answer = next(r for r in chain if r["action"] == "query")
    assert [c["id"] for c in answer["chunks"]] == got.chunk_ids
    assert all(isinstance(c["score"], float) for c in answer["chunks"])
    if got.answer is not None:
        assert answer["answer_sha256"] == sha256(got.answer)
    if got.streamed is not None:
        assert answer["streamed_sha256"] == sha256(got.streamed)
    else:
        assert "streamed_sha256" not in answer
    assert answer["model"] == "smollm2-135m-instruct"
    assert answer["guard_redactions"] == {"PHONE_NUMBER": 1}
    assert answer["latency_ms"] > 0 and answer["via"] == ("api" if api == "rest" else "openai")
    assert "Jane" not in answer["question"] and "Miller" not in answer["question"]
    assert "Jane" not in json.dumps(chain) and "212-555-0147" not in json.dumps(chain)
    assert [r["seq"] for r in chain] == sorted(r["seq"] for r in chain)


def test_requests_without_an_id_get_a_fresh_one_each(env: Env) -> None:
    with env.client() as client:
        ids = [client.get("/v1/collections").headers[REQUEST_ID_HEADER] for _ in range(2)]
    assert ids[0] != ids[1] and all(len(i) >= 16 for i in ids)


def test_an_ingest_job_is_recorded_under_the_upload_request(env: Env, tmp_path: Path) -> None:
    with env.client() as client:
        response = client.post(
            "/v1/collections/handbook/documents",
            files=[("files", ("travel.md", b"# Travel\n\nTrain tickets are refunded within 30 days."))],
            data={"groups": "*"},
            headers={REQUEST_ID_HEADER: "link-upload-0001"},
        )
    assert response.status_code == 200, response.text
    records = [json.loads(line) for line in (env.settings.audit_dir / "audit.log").read_text().splitlines()]
    ingest = [r for r in records if r["request_id"] == "link-upload-0001"]
    assert [r["action"] for r in ingest] == ["ingest"] and ingest[0]["via"] == "job"
    assert ingest[0]["documents"] == [response.json()["files"][0]["doc_id"]]

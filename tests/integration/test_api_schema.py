"""Hostile input against the real gateway: schemathesis generates requests from the gateway's own
``/openapi.json`` (coverage, fuzzing and stateful phases, an administrator's key) and checks that
no response is a server error and every documented response matches its schema; then a list of
hand-made hostile payloads that generators do not produce (lone surrogates, NaN, deep nesting).

The LLM-backed endpoints are included: the gateway talks to a fake OpenAI-compatible server
(tests/integration/faults.py), so the whole answer path runs without a model.

``ENCLAVE_SCHEMATHESIS_SEED`` changes the seed (default fixed, so a failure reproduces);
``ENCLAVE_SCHEMATHESIS_EXAMPLES`` the examples per operation. A failing run leaves the reports
(JSON, and a pytest file that replays each failure) under test-artifacts/schemathesis/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from enclave_core.settings import Settings
from tests.conftest import ARTIFACTS, make_settings
from tests.integration.faults import FakeLLM, RunningGateway, admin_key, policies_with_limits, serve_gateway

pytestmark = pytest.mark.slow

MIN_REQUESTS = 1000
SEED = os.environ.get("ENCLAVE_SCHEMATHESIS_SEED", "20261128")
EXAMPLES = os.environ.get("ENCLAVE_SCHEMATHESIS_EXAMPLES", "50")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")

DOCS = {
    "leave.md": "# Parental leave\n\nEmployees get 16 weeks of paid parental leave. Ask Jane Miller in HR.",
    "travel.md": "# Travel\n\nHotel nights are capped at 140 euros in Paris. Train travel is second class.",
}


class Api:
    def __init__(self, gateway: RunningGateway, settings: Settings, key: str) -> None:
        self.gateway = gateway
        self.settings = settings
        self.key = key

    @property
    def url(self) -> str:
        return self.gateway.url

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=60)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, embedder: Any, redactor: Any) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("schema")
    with FakeLLM() as llm:
        settings = make_settings(root / "data", llm.url, ENCLAVE_POLICIES_DIR=str(policies_with_limits(root)))
        key = admin_key(settings, roles=("admin", "auditor"))
        with serve_gateway(settings, embedder, redactor) as gateway:
            api = Api(gateway, settings, key)
            with api.client() as client:
                files = [("files", (name, text.encode())) for name, text in DOCS.items()]
                upload = client.post("/v1/collections/handbook/documents", files=files, data={"groups": "*"})
                assert upload.status_code == 200 and upload.json()["ingested"] == len(DOCS), upload.text
            yield api


def test_schemathesis_finds_no_server_error_and_no_schema_violation(api: Api, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    before = api.gateway.counter.total
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{api.url}/openapi.json",
        "--header",
        f"Authorization: Bearer {api.key}",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--phases",
        "coverage,fuzzing,stateful",
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--report",
        "json,pytest",
        "--report-dir",
        str(reports),
    ]
    # cwd: schemathesis keeps a cache folder (.schemathesis/) in the working directory.
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    sent = api.gateway.counter.total - before
    report = json.loads(next(reports.glob("json-*.json")).read_text(encoding="utf-8"))
    if run.returncode != 0 or api.gateway.counter.server_errors:
        kept = ARTIFACTS / "schemathesis"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(reports, kept)
        (kept / "output.txt").write_text(run.stdout + run.stderr, encoding="utf-8")
    print(f"schemathesis: {sent} requests, statuses {dict(sorted(api.gateway.counter.statuses.items()))}")
    output = (run.stdout + run.stderr)[-6000:]
    assert api.gateway.counter.server_errors == [], output
    assert report["failures"] == [] and report["errors"] == [], output
    assert run.returncode == 0, output
    assert report["operations"]["tested"] == report["operations"]["selected"] >= 15
    assert {p["status"] for p in report["phases"].values()} <= {"success", "skip"}, report["phases"]
    assert report["phases"]["stateful"]["status"] == "success"
    assert sent >= MIN_REQUESTS, f"only {sent} requests reached the gateway"
    # The generated traffic reached the application, not only its validation layer.
    statuses = api.gateway.counter.statuses
    assert statuses[200] >= 100 and statuses[422] >= 50 and statuses[404] >= 50, dict(statuses)


@pytest.mark.parametrize(
    "path, body",
    [
        pytest.param("/v1/search", b'{"question": "\\ud800 leave", "collection": "handbook"}'),
        pytest.param("/v1/search", b'{"question": "leave", "collection": "\\udfff"}'),
        pytest.param("/v1/query", b'{"question": "\\ud800", "collection": "handbook"}'),
        pytest.param("/v1/chat", b'{"question": "\\ud800", "collection": "handbook"}'),
        pytest.param(
            "/v1/chat/completions",
            b'{"model": "rag-handbook", "messages": [{"role": "user", "content": "\\ud800 leave?"}]}',
        ),
        pytest.param(
            "/v1/chat/completions",
            b'{"model": "rag-handbook", "messages": [{"role": "user", "content": '
            b'[{"type": "text", "text": "\\udc00"}]}]}',
        ),
        pytest.param("/v1/search", b'{"question": "a", "collection": "handbook", "top_k": NaN}'),
        ("/v1/search", b'{"question": "a", "collection": "handbook", "top_k": 1e308}'),
        ("/v1/search", b'{"question": "a", "collection": "handbook", "top_k": ' + b"9" * 5000 + b"}"),
        ("/v1/search", b'{"question": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("/v1/search", b'{"question": "\xff\xfe", "collection": "handbook"}'),
        ("/v1/search", b"[1, 2]"),
        ("/v1/search", b'{"question": "\\u0000\\u0000", "collection": "handbook"}'),
        (
            "/v1/query",
            b'{"question": "leave?", "collection": "handbook", "history": [{"role": "system", "content": "x"}]}',
        ),
        (
            "/v1/chat/completions",
            b'{"model": "rag-handbook", "n": 100000000000000000000000000000, '
            b'"messages": [{"role": "user", "content": "leave?"}]}',
        ),
        (
            "/v1/chat/completions",
            b'{"model": "rag-handbook", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}',
        ),
        ("/v1/chat/completions", b'{"model": "\\ud800", "messages": [{"role": "user", "content": "hi"}]}'),
    ],
)
def test_hostile_json_gets_no_server_error(api: Api, path: str, body: bytes) -> None:
    with api.client() as client:
        response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500, (response.status_code, response.text[:300])
    response.json()  # a JSON body (an answer or an error), never a bare "Internal Server Error"


@pytest.mark.parametrize(
    "parts",
    [
        [("files", ("../../etc/passwd.md", b"# x\n\nhello"))],
        [("files", ("a.md", b"# x\n\nhello")), ("paths", "/abs/a.md")],
        [("files", ("a.md", b"# x\n\nhello")), ("paths", "a.md"), ("paths", "b.md")],
        [("files", ("a.md", b"# x\n\nhello")), ("groups", "a,\x00b")],
        [("files", ("x.exe", b"MZ\x90\x00" * 100))],
        [("files", ("bad.pdf", b"%PDF-1.7\n" + b"\x00" * 1000))],
        [("files", ("bad.docx", b"PK\x03\x04" + b"\xff" * 500))],
    ],
)
def test_hostile_uploads_fail_alone_without_a_server_error(api: Api, parts: list[Any]) -> None:
    files = [p for p in parts if p[0] == "files"]
    data: dict[str, Any] = {}
    for name, value in parts:
        if name != "files":
            data.setdefault(name, []).append(value)
    with api.client() as client:
        response = client.post("/v1/collections/handbook/documents", files=files, data=data)
        assert response.status_code < 500, response.text[:300]
        if response.status_code == 200:
            assert all(f["status"] in ("failed", "skipped", "ingested") for f in response.json()["files"])
            assert all(".." not in f["source"] for f in response.json()["files"])
        ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text  # the gateway is still serving


# --- the review's attacks, over every operation the schema documents (issue 18) -------------

PUBLIC = {"/healthz", "/", "/favicon.ico"}
OVERSIZE = b'{"question": "' + b"a" * (2 << 20) + b'"}'  # 2 MiB: over gateway.max_body_kb (1024 KB)


def _operations(api: Api) -> list[tuple[str, str]]:
    with api.client() as client:
        schema = client.get("/openapi.json").json()
    ops = []
    for path, item in schema["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "delete", "patch") and path not in PUBLIC:
                ops.append((method.upper(), path.replace("{", "x").replace("}", "")))
    return ops


def test_every_operation_authenticates_before_it_reads_a_body(api: Api) -> None:
    """Finding 4: without a credential, an oversized body to any documented operation is
    refused with 401 (not read, not 413, not a server error)."""
    operations = _operations(api)
    assert len(operations) >= 15
    with httpx.Client(base_url=api.url, timeout=60) as anonymous:
        for method, path in operations:
            r = anonymous.request(method, path, content=OVERSIZE, headers={"Content-Type": "application/json"})
            assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
        assert anonymous.get("/openapi.json").status_code == 401  # finding 9


def test_every_operation_with_a_body_is_bounded(api: Api) -> None:
    """With a credential, an oversized JSON body is a 413 wherever a body is accepted."""
    with api.client() as client:
        for method, path in _operations(api):
            if method not in ("POST", "PUT", "PATCH") or path.endswith("/documents"):
                continue
            r = client.request(method, path, content=OVERSIZE, headers={"Content-Type": "application/json"})
            assert r.status_code == 413, (method, path, r.status_code, r.text[:200])


@pytest.mark.parametrize("path", ["/v1/query", "/v1/chat"])
def test_reveal_without_a_reason_is_refused_on_every_route(api: Api, path: str) -> None:
    """Finding 2: the reason is required by the service, not only by the UI."""
    key = admin_key(api.settings, user=f"revealer-{path[4:]}", roles=("admin", "pii:reveal"))
    body = {"question": "Who runs HR?", "collection": "handbook", "reveal": True}
    with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        for reason in (None, "", "  "):
            r = client.post(path, json={**body, "reveal_reason": reason})
            assert r.status_code == 400 and "reveal_reason" in r.text, (reason, r.status_code, r.text[:200])

"""The real CPU vLLM server stops in the middle of a run and comes back: the gateway answers 503
with Retry-After (fast, naming the LLM) while it is gone and recovers on its own, no restart.

A second vLLM server of our own (same ``VLLMServer`` class as the session's, another port) is
stopped with SIGTERM and started again; the shared session server is never touched, and is
checked to be still serving at the end. One stop/start cycle: each start takes a minute or two
on two cores.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from enclave_core.errors import DependencyUnavailable
from enclave_core.llm import LLMClient
from tests.conftest import VLLMServer, make_settings
from tests.integration.faults import admin_key, policies_with_limits, serve_gateway

pytestmark = pytest.mark.e2e

QUESTION = {"question": "How many weeks of paid parental leave do employees get?", "collection": "handbook"}
DOC = (
    b"# Parental leave\n\nEmployees get 16 weeks of paid parental leave. Leave must be requested "
    b"eight weeks ahead through the HR portal."
)
HEALTH_BOUND_S = 2.0  # health_timeout_s (1 s) plus scheduling noise while vLLM loads on 2 cores


@pytest.fixture(scope="module")
def own_vllm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMServer]:
    server = VLLMServer(tmp_path_factory.mktemp("own-vllm"))
    server.start()
    try:
        server.wait()
        yield server
    finally:
        server.stop()


def test_llm_stop_gives_fast_503_and_restart_recovers(
    vllm: VLLMServer, own_vllm: VLLMServer, tmp_path: Path, embedder: Any, redactor: Any
) -> None:
    assert own_vllm.port != vllm.port
    settings = make_settings(
        tmp_path / "data",
        own_vllm.url,
        ENCLAVE_POLICIES_DIR=str(policies_with_limits(tmp_path)),
        ENCLAVE_LLM__HEALTH_TIMEOUT_S="1",
        ENCLAVE_LLM__TIMEOUT_S="120",
    )
    key = admin_key(settings)
    with (
        serve_gateway(settings, embedder, redactor) as gateway,
        httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {key}"}, timeout=300) as client,
    ):
        upload = client.post("/v1/collections/handbook/documents", files=[("files", ("leave.md", DOC))])
        assert upload.status_code == 200 and upload.json()["ingested"] == 1, upload.text
        assert client.get("/readyz").status_code == 200
        before = client.post("/v1/query", json=QUESTION)
        assert before.status_code == 200 and before.json()["answer"].strip(), before.text

        own_vllm.stop()  # SIGTERM to its process group, as systemd or docker would
        assert own_vllm.process is not None and own_vllm.process.poll() is not None

        started = time.monotonic()
        ready = client.get("/readyz")
        elapsed = time.monotonic() - started
        assert ready.status_code == 503 and ready.headers["Retry-After"], ready.text
        assert ready.json()["checks"]["llm"].startswith("unavailable"), ready.text
        assert ready.json()["checks"]["vector_store"] == "ok"
        assert elapsed < HEALTH_BOUND_S, f"/readyz took {elapsed:.2f} s"

        started = time.monotonic()
        down = client.post("/v1/query", json=QUESTION)
        elapsed = time.monotonic() - started
        assert down.status_code == 503 and int(down.headers["Retry-After"]) > 0, down.text
        assert "llm unavailable" in down.json()["detail"]
        assert elapsed < 5.0, f"/v1/query took {elapsed:.2f} s with the LLM stopped"
        assert client.post("/v1/search", json=QUESTION).status_code == 200  # retrieval is unaffected

        own_vllm.ready = False
        own_vllm.start()  # same port; the gateway is not told anything
        deadline = time.monotonic() + 900
        while own_vllm.process is not None and own_vllm.process.poll() is None and time.monotonic() < deadline:
            probe = client.get("/readyz")
            if probe.status_code == 200:
                break
            assert probe.status_code == 503, probe.text  # while it loads: not ready, never 500
            time.sleep(2)
        assert own_vllm.process is not None and own_vllm.process.poll() is None, "vLLM did not restart"
        assert probe.status_code == 200, "the gateway did not become ready again"
        after = client.post("/v1/query", json=QUESTION)
        assert after.status_code == 200 and after.json()["answer"].strip(), after.text
        assert after.json()["citations"]

    # The shared session server was never touched.
    try:
        LLMClient(vllm.settings.llm).check()
    except DependencyUnavailable as exc:  # pragma: no cover - reported as a failure
        pytest.fail(f"the session vLLM server stopped answering: {exc}")

"""Shared fixtures. The CPU vLLM server starts once per session, in the background, as soon as
collection shows an end-to-end test is selected, so unit tests run while the model loads."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import enclave_core  # noqa: F401  (air-gap environment first)
from enclave_core.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_settings(data_dir: Path, llm_url: str = "http://127.0.0.1:9/v1", **env: str) -> Settings:
    """Settings for a test: its own data dir, nothing read from the developer's environment.

    ``ENCLAVE_TEST_EMBEDDED_ENGINE=local`` runs the suite on qdrant-client's local mode (default:
    the shipped default, ``auto``, which is qdrant-edge for a new data directory).
    """
    base = {"ENCLAVE_DATA_DIR": str(data_dir), "ENCLAVE_LLM_URL": llm_url, "ENCLAVE_ENV": "test"}
    # Scripted test LLMs answer canned text that no source backs: evidence checks (refusals, quotes)
    # are off unless a test asks for them; the real-vLLM e2e and browser tests switch them on.
    base["ENCLAVE_ANSWERS__CHECK_EVIDENCE"] = "false"
    # In-process test gateways share the session's loaded models: their jobs run in a thread. The
    # worker process (the product's default) is tested in test_ingest_worker.py and test_crash_resume.py.
    base["ENCLAVE_INGEST__WORKER"] = "thread"
    if engine := os.environ.get("ENCLAVE_TEST_EMBEDDED_ENGINE"):
        base["ENCLAVE_VECTOR_STORE__EMBEDDED_ENGINE"] = engine
    base.update(env)
    return load_settings(base)


class VLLMServer:
    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.settings = make_settings(root, self.url)
        self.process: subprocess.Popen[bytes] | None = None
        self.ready = False

    def start(self) -> None:
        from services.llm.launch import start_server

        self.process = start_server(self.settings, ARTIFACTS / "vllm.log")

    def wait(self) -> None:
        from services.llm.launch import wait_until_ready

        if not self.ready:
            assert self.process is not None
            wait_until_ready(self.settings, self.process, timeout_s=900)
            self.ready = True

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


_server: VLLMServer | None = None


@pytest.hookimpl(trylast=True)  # after -m/-k deselection: no server for a run without e2e tests
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run end-to-end tests last (the server warms up meanwhile) and start the server if any are selected."""
    global _server
    e2e = [i for i in items if i.get_closest_marker("e2e")]
    items[:] = [i for i in items if not i.get_closest_marker("e2e")] + e2e
    if e2e and _server is None:
        ARTIFACTS.mkdir(exist_ok=True)
        root = ARTIFACTS / "vllm-data"
        shutil.rmtree(root, ignore_errors=True)
        _server = VLLMServer(root)
        _server.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _server is not None:
        _server.stop()


@pytest.fixture(scope="session")
def vllm() -> VLLMServer:
    """The real CPU vLLM server (SmolLM2-135M), ready."""
    assert _server is not None, "mark the test with @pytest.mark.e2e"
    _server.wait()
    return _server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    from enclave_core.embedding import build_embedder
    from enclave_core.settings import EmbeddingSettings

    return build_embedder(EmbeddingSettings())


@pytest.fixture(scope="session")
def redactor():  # type: ignore[no-untyped-def]
    from enclave_core.redaction import Redactor

    return Redactor.from_policy_file(REPO / "policies" / "redaction.yaml")


@pytest.fixture
def core(settings: Settings, embedder, redactor) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A Core whose models are shared across the session (they load once)."""
    from enclave_core.runtime import Core

    c = Core(settings)
    c.__dict__["embedder"] = embedder
    c.__dict__["redactor"] = redactor
    yield c
    c.close()

"""A search or answer that fails with an unexpected error (the store or a model raising something
that is not one of Enclave's errors) still leaves an audit record: the trail must show every
question that was asked, not only those that succeeded or failed in a way the code foresaw.

Real gateway under uvicorn with real Presidio, embeddings and embedded Qdrant; the fault is the
retriever raising ``RuntimeError`` after the question was authorised and pseudonymised.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from enclave_core.keys import KeyStore
from services.gateway.app import create_app
from tests.conftest import make_settings
from tests.e2e.gateway_server import serving_app
from tests.integration.conftest import read_audit, upload

CAFETERIA = "The cafeteria serves breakfast from 7:30 on weekdays."
QUESTION = {"question": "Which cafeteria serves breakfast on Mondays?", "collection": "handbook"}


class ExplodingRetriever:
    def search(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("store connection reset")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, embedder: Any, redactor: Any) -> Iterator[tuple[Any, Any, Any]]:
    settings = make_settings(tmp_path_factory.mktemp("audit-errors") / "data")
    secret = KeyStore(settings.secrets_dir / "api-keys.json").create("ann", ["staff"], ["admin"])[1]
    app = create_app(settings, warm=False)
    with serving_app(app, settings) as port:
        core = app.state.enclave.core
        core.__dict__["embedder"] = embedder
        core.__dict__["redactor"] = redactor
        headers = {"Authorization": f"Bearer {secret}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120) as client:
            upload(
                client, "handbook", {"cafeteria.md": "The cafeteria serves breakfast from 7:30 on weekdays."}, "staff"
            )
            core.__dict__["retriever"] = ExplodingRetriever()
            yield client, settings, core


@pytest.mark.parametrize(
    ("path", "action", "stream"),
    [("/v1/search", "search", False), ("/v1/query", "query", False), ("/v1/query", "query", True)],
)
def test_an_unexpected_failure_is_audited(gateway: tuple[Any, Any, Any], path: str, action: str, stream: bool) -> None:
    client, settings, _ = gateway
    before = len(read_audit(settings))
    body = {**QUESTION, "stream": True} if stream else QUESTION
    response = client.post(path, json=body, headers={"Connection": "close"})  # uvicorn drops it after a 500
    assert response.status_code == 500
    new = [e for e in read_audit(settings)[before:] if e.get("action") == action]
    assert [(e["outcome"], e.get("error")) for e in new] == [("error", "RuntimeError")], new
    assert "store connection reset" not in str(new)  # the class, never the message

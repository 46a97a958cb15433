"""Where /metrics is served (role-gated route or admin port) and the last `enclave audit verify` in it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from enclave_cli.main import main
from enclave_core.audit import AuditLog
from enclave_core.keys import KeyStore
from enclave_core.metrics import Metrics, entity_label
from enclave_core.requestctx import REQUEST_ID_HEADER
from services.gateway.app import create_app
from tests.conftest import free_port, make_settings


def gauges(text: str) -> dict[str, float]:
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples if not s.labels}


def test_admin_port_serves_without_a_key_and_the_route_is_gone(tmp_path: Path) -> None:
    port = free_port()
    settings = make_settings(tmp_path / "data", ENCLAVE_METRICS__PORT=str(port))
    key = KeyStore(settings.secrets_dir / "api-keys.json").create("audrey", [], ["auditor"])[1]
    with TestClient(create_app(settings, warm=False)) as client:
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        on_gateway = client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
    assert scraped.status_code == 200 and "enclave_http_requests_total" in scraped.text
    assert on_gateway.status_code == 404 and on_gateway.headers[REQUEST_ID_HEADER]
    with pytest.raises(httpx.ConnectError):  # stopped with the app
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_disabled_metrics_are_served_nowhere(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", ENCLAVE_METRICS__ENABLED="false")
    key = KeyStore(settings.secrets_dir / "api-keys.json").create("root", [], ["admin"])[1]
    with TestClient(create_app(settings, warm=False)) as client:
        assert client.get("/metrics", headers={"Authorization": f"Bearer {key}"}).status_code == 404


def test_the_last_verification_is_exported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path / "data")
    monkeypatch.setenv("ENCLAVE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ENCLAVE_ENV", "test")
    key = KeyStore(settings.secrets_dir / "api-keys.json").create("audrey", [], ["auditor"])[1]
    log = AuditLog(settings.audit_dir, settings.audit_signing_key)
    log.append("test.event", principal="x", outcome="ok")

    def scrape() -> dict[str, float]:
        with TestClient(create_app(settings, warm=False)) as client:
            response = client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
        return gauges(response.text)

    before = scrape()
    assert before["enclave_audit_verify_timestamp_seconds"] == 0  # never: the 24-hour alert fires
    assert main(["audit", "verify"]) == 0
    after = scrape()
    assert after["enclave_audit_verify_ok"] == 1 and after["enclave_audit_verify_timestamp_seconds"] > 0
    lines = log.path.read_bytes().splitlines()
    log.path.write_bytes(b"\n".join([lines[0].replace(b"test.event", b"test.evenT"), *lines[1:]]) + b"\n")
    assert main(["audit", "verify"]) != 0
    assert scrape()["enclave_audit_verify_ok"] == 0  # EnclaveAuditVerificationFailed


def test_entity_labels_are_type_names_only() -> None:
    assert entity_label("EMAIL_ADDRESS") == "EMAIL_ADDRESS"
    assert entity_label("jane.doe@example.org") == "OTHER"
    assert entity_label("Jane Doe") == "OTHER"
    metrics = Metrics()
    metrics.redacted("answer", {"PERSON": 2, "alice@example.org": 1})
    text = "\n".join(f"{s.name}{s.labels}" for f in metrics.registry.collect() for s in f.samples)
    assert "alice" not in text and "PERSON" in text

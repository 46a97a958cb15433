"""The gateway's uvicorn options come from the settings (keep-alive above the client's idle time)."""

from __future__ import annotations

from typing import Any

import pytest

from enclave_core.settings import load_settings
from services.gateway import server


def test_serve_passes_keep_alive_and_address(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen.update(kwargs)

    monkeypatch.setattr("uvicorn.run", fake_run)
    monkeypatch.setattr("services.gateway.app.create_app", lambda settings: object())
    settings = load_settings({"ENCLAVE_DATA_DIR": str(tmp_path), "ENCLAVE_GATEWAY__KEEP_ALIVE_S": "90"})
    server.serve(settings, port=8123)
    assert seen["timeout_keep_alive"] == 90
    assert seen["port"] == 8123
    assert seen["host"] == settings.gateway.host


def test_default_keep_alive_outlasts_common_client_idle() -> None:
    # nginx keeps idle upstream connections 60 s; uvicorn's own default (5 s) races reusing clients.
    assert load_settings({}).gateway.keep_alive_s > 60

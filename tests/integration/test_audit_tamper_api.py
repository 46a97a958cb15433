"""Attack tests for the audit trail with the signed head off the request path (its fsync is
deferred, its replacement is not): searches through the real gateway, then the log is cut short
or edited right away, while the head may not be on disk yet — ``enclave audit verify`` fails
every time and names the record. An untouched log verifies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from enclave_cli import main as cli
from enclave_core.settings import Settings
from tests.conftest import make_settings
from tests.integration.faults import admin_key, serve_gateway

SEARCHES = 4


def _cut_last(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))


def _edit_last(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[-1])
    record["question"] = "something else"
    lines[-1] = json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    path.write_bytes(b"".join(lines))


def _drop_middle(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    del lines[len(lines) // 2]
    path.write_bytes(b"".join(lines))


@pytest.fixture
def searched(tmp_path: Path, embedder: Any, redactor: Any) -> Iterator[Settings]:
    """A gateway that served an upload and a few searches; yields after it stopped."""
    settings = make_settings(tmp_path / "data")
    key = admin_key(settings)
    with serve_gateway(settings, embedder, redactor) as gateway:
        with httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
            doc = b"# Leave\n\nEmployees get 16 weeks of paid parental leave."
            response = client.post(
                "/v1/collections/handbook/documents", files=[("files", ("leave.md", doc))], data={"groups": "*"}
            )
            assert response.status_code == 200, response.text
            for _ in range(SEARCHES):
                response = client.post("/v1/search", json={"question": "How long is leave?", "collection": "handbook"})
                assert response.status_code == 200, response.text
        yield settings


def _verify(settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setattr(cli, "load_settings", lambda: settings)
    capsys.readouterr()
    code = cli.main(["audit", "verify"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize(
    ("tamper", "why"),
    [(_cut_last, "truncated"), (_edit_last, "hash"), (_drop_middle, "")],
    ids=["truncate", "edit", "delete"],
)
def test_tampering_right_after_searches_through_the_api_fails_verify(
    searched: Settings,
    tamper: Callable[[Path], None],
    why: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = searched.audit_dir / "audit.log"
    records = [json.loads(line) for line in log.read_bytes().splitlines()]
    assert sum(r["action"] == "search" for r in records) == SEARCHES
    tamper(log)
    code, out = _verify(searched, monkeypatch, capsys)
    assert code != 0, out
    assert why in out, out


def test_an_untouched_log_verifies(
    searched: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _verify(searched, monkeypatch, capsys)
    assert code == 0, out

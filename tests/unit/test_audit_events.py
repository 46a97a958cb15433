"""One audit record schema, written by one helper (enclave_core.audit.events.write_event):

* every record has the core fields, with the request id of the work in progress;
* action-specific details can never overwrite a core field;
* no product module calls ``AuditLog.append`` itself (a static scan of the source);
* ``enclave audit show REQUEST_ID`` prints one request's records in order, and nothing else.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from enclave_cli import main as cli
from enclave_core.audit import AuditEvent, AuditLog, request_chain, write_event
from enclave_core.identity import Principal
from enclave_core.requestctx import request_scope
from enclave_core.settings import Settings
from tests.conftest import REPO, make_settings

PRODUCT = ("enclave_core", "enclave_cli", "services", "ingest", "benchmarks", "training")
HELPER = REPO / "enclave_core" / "audit" / "events.py"
AUDIT_LOG = REPO / "enclave_core" / "audit" / "log.py"  # defines append
CORE = ("action", "principal", "outcome", "via", "request_id")


def test_records_carry_the_core_fields_and_the_request_id(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    alice = Principal("alice", frozenset({"hr", "eng"}))
    with request_scope("req-12345678") as rid:
        written = write_event(log, AuditEvent.by(alice, "delete", "ok", via="api", collection="c", documents=["d-1"]))
    outside = write_event(log, AuditEvent("auth.denied", "denied", None, "gateway", details={"client": "1.2.3.4"}))
    assert rid == "req-12345678"
    for record in (written, outside):
        assert all(field in record for field in CORE)
    assert written["request_id"] == "req-12345678" and outside["request_id"] is None
    assert written["groups"] == ["eng", "hr"] and written["documents"] == ["d-1"] and written["collection"] == "c"
    assert outside["client"] == "1.2.3.4" and "collection" not in outside
    assert log.verify().ok


@pytest.mark.parametrize("field", ["request_id", "principal", "outcome", "seq", "hash", "prev", "documents"])
def test_details_cannot_overwrite_a_core_field(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        AuditEvent("x", "ok", "alice", details={field: "forged"})


def _direct_appends(path: Path) -> list[str]:
    """Calls in ``path`` that append to an audit log: ``<...audit...>.append(...)``, or any
    ``.append`` with keywords or several arguments (a list's append takes one argument)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append"):
            continue
        receiver = ast.unparse(node.func.value).lower()
        if "audit" in receiver or node.keywords or len(node.args) != 1:
            found.append(f"{path}:{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def test_no_module_appends_to_the_audit_log_but_the_helper() -> None:
    offenders = []
    for package in PRODUCT:
        for path in sorted((REPO / package).rglob("*.py")):
            if path not in (HELPER, AUDIT_LOG):
                offenders.extend(_direct_appends(path))
    assert offenders == [], "write audit records with enclave_core.audit.write_event:\n" + "\n".join(offenders)


def test_the_scan_finds_a_direct_append(tmp_path: Path) -> None:
    bad = tmp_path / "probe.py"
    bad.write_text(
        "def f(core, log, rows):\n"
        '    core.audit.append("x", principal="p")\n'
        '    log.append("y", outcome="ok")\n'
        "    rows.append(1)\n"
    )
    assert len(_direct_appends(bad)) == 2


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    s = make_settings(tmp_path / "data")
    monkeypatch.setattr(cli, "load_settings", lambda: s)
    return s


def test_audit_show_prints_the_chain_of_one_request(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    log = AuditLog(settings.audit_dir, settings.audit_signing_key, settings.audit.checkpoint_every)
    bob = Principal("bob", frozenset({"eng"}))
    with request_scope("req-aaaaaaaa"):
        write_event(log, AuditEvent.by(bob, "query.sources", "ok", collection="c", chunks=[{"id": "c-1"}]))
    with request_scope("req-bbbbbbbb"):
        write_event(log, AuditEvent.by(bob, "search", "ok", collection="c"))
    with request_scope("req-aaaaaaaa"):
        write_event(log, AuditEvent.by(bob, "query", "ok", collection="c", answer_sha256="ab" * 32))

    assert cli.main(["audit", "show", "req-aaaaaaaa", "--json"]) == 0
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["action"] for r in shown] == ["query.sources", "query"]
    assert [r["seq"] for r in shown] == [1, 3]
    assert shown == list(request_chain(log.records(), "req-aaaaaaaa"))

    assert cli.main(["audit", "show", "req-aaaaaaaa"]) == 0
    text = capsys.readouterr().out
    assert "query.sources" in text and "answer_sha256" in text and "c-1" in text and "search" not in text

    assert cli.main(["audit", "show", "req-nothing1"]) == 1
    assert "no audit record" in capsys.readouterr().err


def test_cli_commands_write_under_one_request_id(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["keys", "create", "--user", "carol", "--roles", "auditor"]) == 0
    key_id = next(r["key_id"] for r in AuditLog(settings.audit_dir).records() if r["action"] == "key.create")
    assert cli.main(["keys", "revoke", key_id]) == 0
    records = list(AuditLog(settings.audit_dir).records())
    assert [r["action"] for r in records] == ["key.create", "key.revoke"]
    ids = [r["request_id"] for r in records]
    assert all(ids) and ids[0] != ids[1]  # one id per command
    assert all(r["via"] == "cli" and r["principal"] == "local-admin" for r in records)

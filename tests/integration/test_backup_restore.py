"""``enclave backup`` / ``enclave restore`` with the real pipeline: documents ingested (Presidio,
MiniLM, embedded Qdrant, vault), searched, backed up, restored into an empty data directory;
the same searches give the same results, the audit chain verifies and the vault still reveals."""

from __future__ import annotations

import argparse
import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

from enclave_cli.backup_cmd import add_backup_parsers
from enclave_core.audit import AuditLog
from enclave_core.backup import BackupError, create_backup, restore_backup
from enclave_core.identity import LOCAL_ADMIN
from enclave_core.runtime import Core
from enclave_core.service import RagService
from enclave_core.settings import Settings
from enclave_core.vectorstore import StoreLocked
from ingest import Ingestor, SourceFile
from tests.conftest import make_settings

COLLECTION = "handbook"
DOCS = {
    "hr/leave.md": (
        "# Parental leave\n\nEmployees get 16 weeks of paid parental leave. Requests go to "
        "Margaret Holloway (margaret.holloway@example.com) at least eight weeks ahead."
    ),
    "hr/expenses.md": (
        "# Travel expenses\n\nTrain travel is reimbursed in second class. Hotel nights are capped at "
        "140 euros in Paris and 110 euros elsewhere. Questions: Daniel Okafor, phone 555-0143."
    ),
    "it/laptops.md": (
        "# Laptops\n\nEvery engineer receives a laptop with 32 GB of memory, replaced every three years. "
        "Lost devices must be reported to the service desk within 24 hours."
    ),
    "it/vpn.md": "# VPN\n\nThe VPN is required outside the office. Sessions expire after twelve hours.",
}
QUESTIONS = [
    "How many weeks of parental leave do employees get?",
    "What is the hotel cap in Paris?",
    "How often are laptops replaced?",
    "When do VPN sessions expire?",
    "Who handles parental leave requests?",
]


def _searches(core: Core) -> list[list[tuple[str, str, float]]]:
    rag = RagService(core, via="cli")
    results = []
    for question in QUESTIONS:
        citations = rag.search(LOCAL_ADMIN, COLLECTION, question, top_k=5)
        results.append([(c.chunk_id, c.doc_id, c.score) for c in citations])
    return results


def _fresh_core(settings: Settings, embedder: Any, redactor: Any) -> Core:
    core = Core(settings)
    core.__dict__["embedder"] = embedder
    core.__dict__["redactor"] = redactor
    return core


def _pseudonym_of(core: Core, value: str) -> str:
    placeholder = core.vault.lookup(COLLECTION, "PERSON", value)
    assert placeholder, f"{value} was not pseudonymized into the vault"
    return placeholder


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, embedder: Any, redactor: Any) -> dict[str, Any]:
    """A data directory with documents ingested and searched (once per module; the store closed)."""
    root = tmp_path_factory.mktemp("backup-source")
    settings = make_settings(root / "data")
    core = _fresh_core(settings, embedder, redactor)
    ingestor = Ingestor(core)
    try:
        files = [SourceFile(source, data=text.encode()) for source, text in DOCS.items()]
        report = ingestor.ingest(files, COLLECTION, ["hr", "eng"])
        assert report.count("ingested") == len(DOCS), [o.error for o in report.outcomes]
        results = _searches(core)
        assert all(results), "every question should find something"
        placeholder = _pseudonym_of(core, "Margaret Holloway")
        texts = [h.payload["text"] for h in core.store.iter_points(COLLECTION)]
        assert any(placeholder in t for t in texts) and not any("Holloway" in t for t in texts)
    finally:
        ingestor.manifest.close()
        core.close()
    # Things that are not durable state must stay out of the backup.
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    (settings.logs_dir / "vllm.log").write_text("noise", encoding="utf-8")
    (settings.data_dir / "cache" / "vllm").mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "cache" / "vllm" / "blob").write_bytes(b"x" * 1000)
    return {"data_dir": settings.data_dir, "results": results, "placeholder": placeholder}


@pytest.fixture
def populated(source: dict[str, Any], tmp_path: Path) -> Settings:
    """A private copy of the populated data directory (the gateway stopped)."""
    shutil.copytree(source["data_dir"], tmp_path / "data", symlinks=True)
    return make_settings(tmp_path / "data")


def test_backup_is_refused_while_the_embedded_store_is_open(
    populated: Settings, tmp_path: Path, embedder: Any, redactor: Any
) -> None:
    core = _fresh_core(populated, embedder, redactor)
    try:
        assert core.store.list_collections() == [COLLECTION]  # held open, as by a running gateway
        with pytest.raises(StoreLocked, match="stop it"):
            create_backup(populated, tmp_path)
    finally:
        core.close()
    assert not list(tmp_path.glob("*.tar.gz")) and not list(tmp_path.glob(".*partial"))


def test_restore_into_an_empty_dir_answers_the_same_searches(
    source: dict[str, Any], populated: Settings, tmp_path: Path, embedder: Any, redactor: Any
) -> None:
    settings = populated
    audit_before = AuditLog(settings.audit_dir, settings.audit_signing_key).verify()
    assert audit_before.ok and audit_before.records >= len(QUESTIONS)

    out = tmp_path / "backups"
    out.mkdir()
    archive = create_backup(settings, out)
    assert archive.parent == out and archive.name.endswith(".tar.gz")
    assert archive.stat().st_mode & 0o777 == 0o600

    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("MANIFEST.json").read())  # type: ignore[union-attr]
    tops = {n.split("/")[1] for n in names if n.startswith("data/")}
    assert tops == {"qdrant", "state", "audit", "vault", "secrets"}
    assert not any("/logs/" in n or "/cache/" in n or n.endswith((".lock", "-wal", "-shm")) for n in names)
    assert {f"data/{f['path']}" for f in manifest["files"]} == {n for n in names if n != "MANIFEST.json"}
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    assert manifest["vector_store"]["mode"] == "embedded"
    assert manifest["audit_records"] == audit_before.records

    restored = make_settings(tmp_path / "restored-data")
    report = restore_backup(archive, restored)
    assert report.audit_ok and report.files == len(manifest["files"])
    assert report.audit_records == audit_before.records + 1  # + the restore itself

    restored_audit = AuditLog(restored.audit_dir, restored.audit_signing_key)
    assert [r["action"] for r in restored_audit.records()][-1] == "backup.restore"
    new_core = _fresh_core(restored, embedder, redactor)
    try:
        got = _searches(new_core)
        # Same ids in the same order; fused scores equal up to float32 rounding (the engine may
        # sum a restored store's vectors in another order, and z-score fusion keeps score values).
        expected = source["results"]
        assert [[(c, d) for c, d, _ in row] for row in got] == [[(c, d) for c, d, _ in row] for row in expected]
        assert [[s for *_, s in row] for row in got] == [
            pytest.approx([s for *_, s in row], rel=1e-5, abs=1e-6) for row in expected
        ]
        assert new_core.vault.reveal(COLLECTION, f"Ask {source['placeholder']}.")[0] == "Ask Margaret Holloway."
        assert Ingestor(new_core).manifest.documents(COLLECTION)  # the ingest manifest came back too
        # The restored appliance keeps working: new audited searches extend the same chain.
        verified = restored_audit.verify()
        assert verified.ok, verified.reason
        assert verified.records == audit_before.records + 1 + len(QUESTIONS)
    finally:
        new_core.close()
    assert (restored.secrets_dir / "vault.key").stat().st_mode & 0o777 == 0o600

    # Only into an empty data directory.
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(archive, restored)


def _rewrite(archive: Path, target: Path, change: Any) -> None:
    """Copy the archive member by member, letting ``change(info, data)`` alter or add members."""
    with tarfile.open(archive) as src, tarfile.open(target, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            for info, body in change(member, data):
                info.size = len(body)
                dst.addfile(info, io.BytesIO(body))


def test_a_damaged_or_hostile_archive_restores_nothing(populated: Settings, tmp_path: Path) -> None:
    archive = create_backup(populated, tmp_path / "good.tar.gz")

    def flip_audit(info: tarfile.TarInfo, data: bytes) -> list[tuple[tarfile.TarInfo, bytes]]:
        if info.name == "data/audit/audit.log":
            data = data.replace(b'"action":"search"', b'"action":"SEARCH"', 1)
        return [(info, data)]

    def escape(info: tarfile.TarInfo, data: bytes) -> list[tuple[tarfile.TarInfo, bytes]]:
        extra = tarfile.TarInfo("data/state/../../../evil.txt")
        return [(info, data), (extra, b"owned")]

    def drop_vault(info: tarfile.TarInfo, data: bytes) -> list[tuple[tarfile.TarInfo, bytes]]:
        return [] if info.name.startswith("data/vault/") else [(info, data)]

    cases = {
        "tampered": (flip_audit, "does not match"),
        "escape": (escape, "refusing"),
        "missing": (drop_vault, "missing from"),
    }
    for name, (change, message) in cases.items():
        bad = tmp_path / f"{name}.tar.gz"
        _rewrite(archive, bad, change)
        target = make_settings(tmp_path / f"into-{name}")
        with pytest.raises(BackupError, match=message):
            restore_backup(bad, target)
        assert not target.data_dir.exists() or not any(target.data_dir.iterdir()), name
        assert not (tmp_path / "evil.txt").exists()
        assert not [p for p in tmp_path.iterdir() if ".restore-" in p.name], "staging left behind"

    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(BackupError, match=r"damaged|not a readable"):
        restore_backup(garbage, make_settings(tmp_path / "into-garbage"))


def test_cli_commands(populated: Settings, tmp_path: Path) -> None:
    settings = populated
    parser = argparse.ArgumentParser()
    add_backup_parsers(parser.add_subparsers(dest="command", required=True))
    archive = tmp_path / "cli.tar.gz"
    args = parser.parse_args(["backup", "--out", str(archive), "--json"])
    assert args.func(args, settings) == 0
    restored = make_settings(tmp_path / "cli-restored")
    args = parser.parse_args(["restore", str(archive)])
    assert args.func(args, restored) == 0
    actions = [r["action"] for r in AuditLog(restored.audit_dir, restored.audit_signing_key).records()]
    assert actions[-2:] == ["backup.create", "backup.restore"]

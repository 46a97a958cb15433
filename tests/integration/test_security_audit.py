"""Issue #18, findings 5 and 9c/9d, each performed as an attack on a real gateway over HTTP.

5: a flood of unauthenticated requests with long paths must not flood the audit log; a nearly full
audit volume refuses writes (503) but keeps serving reads; ``GET /v1/audit`` checks only what was
appended since its last call, while the explicit full verification still finds an old edit.
9c: everything the gateway creates in the data directory is owner-only, whatever the umask.
9d: a collection name such as ``../evil`` never reaches the file system through the vault.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import enclave_core.audit.log as audit_log
from enclave_core.audit import AuditLog
from enclave_core.keys import KeyStore
from enclave_core.settings import Settings
from tests.conftest import REPO, make_settings
from tests.e2e.gateway_server import running_gateway
from tests.integration.conftest import ACCESS_POLICY, Gateway, upload

WINDOW_S = 2  # the auth-failure aggregation window of this module's gateway
MB = 1 << 20


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    root = tmp_path_factory.mktemp("secaudit")
    policies = root / "policies"
    shutil.copytree(REPO / "policies", policies)
    (policies / "access.yaml").write_text(ACCESS_POLICY, encoding="utf-8")
    old_umask = os.umask(0o022)  # a typical service umask: files 0644, directories 0755
    try:
        data = root / "data"
        (data / "logs").mkdir(parents=True)  # a data directory left by an older version
        (data / "logs" / "old.log").write_text("from before\n", encoding="utf-8")
        os.chmod(data, 0o755)
        os.chmod(data / "logs" / "old.log", 0o644)
        settings = make_settings(
            data,
            ENCLAVE_POLICIES_DIR=str(policies),
            ENCLAVE_AUDIT__AUTH_FAILURE_WINDOW_S=str(WINDOW_S),
            ENCLAVE_AUDIT__AUTH_FAILURES_LOGGED="5",
            ENCLAVE_AUDIT__MIN_FREE_MB="256",
            ENCLAVE_AUDIT__FLOOR_MB="16",
        )
        store = KeyStore(settings.secrets_dir / "api-keys.json")
        keys = {
            "hr": store.create("harriet", ["hr"], [])[1],
            "hradmin": store.create("hana", ["hr", "hr-admins"], [])[1],
            "eng": store.create("eddie", ["eng"], [])[1],
            "auditor": store.create("audrey", [], ["auditor"])[1],
            "admin": store.create("root", [], ["admin"])[1],
        }
        with running_gateway(settings) as url:
            gateway = Gateway(url, settings, keys)
            with gateway.client("hr") as hr:
                upload(hr, "shared", {"handbook.txt": "Travel policy: book trains for trips under 500 km."}, "*")
            yield gateway
    finally:
        os.umask(old_umask)


def audit_lines(settings: Settings) -> list[dict[str, Any]]:
    path = settings.audit_dir / "audit.log"
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def verify_all(settings: Settings) -> audit_log.VerifyResult:
    """What ``enclave audit verify`` does: the whole chain, from a fresh instance."""
    return AuditLog(settings.audit_dir, settings.audit_signing_key, settings.audit.checkpoint_every).verify()


# -- 5a: a flood of failed authentications ---------------------------------------------------------


def test_a_flood_of_unauthenticated_requests_with_long_paths_stays_small_and_is_counted(gw: Gateway) -> None:
    log_path = gw.settings.audit_dir / "audit.log"
    size_before = log_path.stat().st_size
    seq_before = audit_lines(gw.settings)[-1]["seq"]
    long_name = "a" * 4096
    with httpx.Client(base_url=gw.url, timeout=30) as anon:
        for i in range(300):
            headers = {"Authorization": "Bearer enc_" + "x" * 43} if i % 2 else {}
            r = anon.get(f"/v1/collections/{long_name}/documents", headers=headers)
            assert r.status_code == 401, r.text

    deadline = time.monotonic() + 4 * WINDOW_S + 5
    while True:  # the summary is written when the window closes
        new = [r for r in audit_lines(gw.settings) if r["seq"] > seq_before]
        denied = [r for r in new if r["action"] == "auth.denied"]
        single = [r for r in denied if not r.get("summary")]
        counted = sum(int(r["count"]) for r in denied if r.get("summary"))
        if len(single) + counted >= 300 or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    growth = log_path.stat().st_size - size_before
    assert growth < 30_000, f"300 bad requests added {growth} bytes to the audit log"
    assert len(single) + counted == 300, (len(single), counted)  # every failure is accounted for
    assert counted > 0 and all(r.get("client") == "127.0.0.1" for r in single)
    summary = next(r for r in denied if r.get("summary"))
    assert summary["clients"][0] == {"client": "127.0.0.1", "count": summary["count"]}
    assert all(len(r["path"]) < 300 for r in single)
    verified = verify_all(gw.settings)
    assert verified.ok, verified


# -- 5b: the audit volume below its reserve ------------------------------------------------------------


@pytest.fixture
def free_space(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Make the data directory's filesystem report ``mb`` MB free (the gateway runs in this process)."""
    real = os.statvfs
    data_dir = str(gw.settings.data_dir)

    def install(mb: int) -> None:
        def fake(path: Any) -> os.statvfs_result:
            st = real(path)
            if not str(path).startswith(data_dir):
                return st
            blocks = mb * MB // st.f_frsize
            fields = (st.f_bsize, st.f_frsize, st.f_blocks, blocks, blocks, st.f_files, st.f_ffree, st.f_favail)
            return os.statvfs_result((*fields, st.f_flag, st.f_namemax))

        monkeypatch.setattr(os, "statvfs", fake)

    return install


def test_below_the_reserve_writes_get_503_while_reads_go_on(gw: Gateway, free_space: Callable[[int], None]) -> None:
    with gw.client("hr") as hr, gw.client("hradmin") as admin, gw.client("eng") as eng:
        doc = upload(hr, "shared", {"reserve.txt": "Expense claims are filed within 30 days."}, "*")
        doc_id = doc["files"][0]["doc_id"]

        free_space(100)  # above the floor (16 MB), below the reserve (256 MB)
        r = eng.post("/v1/search", json={"question": "expense claims", "collection": "shared"})
        assert r.status_code == 200, r.text
        assert eng.get("/v1/collections").status_code == 200
        assert eng.get("/v1/collections/shared/documents").status_code == 200
        refused = [
            hr.post(
                "/v1/collections/shared/documents", files=[("files", ("new.txt", b"New text."))], data={"groups": "*"}
            ),
            admin.delete(f"/v1/collections/shared/documents/{doc_id}"),
            admin.put(f"/v1/collections/shared/documents/{doc_id}/acl", json={"groups": ["hr"]}),
        ]
        for r in refused:
            assert r.status_code == 503, (r.request.method, r.request.url, r.status_code, r.text)
            assert "reserve" in r.json()["detail"] and "searches and questions still work" in r.json()["detail"]
            assert r.headers.get("retry-after")

        free_space(8)  # below the floor: searches write audit records, so they wait too; GETs go on
        r = eng.post("/v1/search", json={"question": "expense claims", "collection": "shared"})
        assert r.status_code == 503 and "floor" in r.json()["detail"], r.text
        assert eng.get("/v1/collections").status_code == 200

        free_space(10_000)  # space is back
        r = admin.put(f"/v1/collections/shared/documents/{doc_id}/acl", json={"groups": ["hr"]})
        assert r.status_code == 200, r.text
    assert doc_id in {d for r in audit_lines(gw.settings) for d in r.get("documents", [])}


# -- 5c: GET /v1/audit checks only what is new -------------------------------------------------------


def _rewrite_line(path: Path, index: int, change: Callable[[dict[str, Any]], None]) -> bytes:
    """Edit one record in place (same length); returns the original line."""
    lines = path.read_bytes().splitlines(keepends=True)
    original = lines[index]
    record = json.loads(original)
    change(record)
    lines[index] = audit_log.canonical(record) + b"\n"
    assert len(lines[index]) == len(original)
    path.write_bytes(b"".join(lines))
    return original


def _flip_digit(record: dict[str, Any]) -> None:
    ts = record["ts"]
    record["ts"] = ts[:-7] + ("1" if ts[-7] != "1" else "2") + ts[-6:]  # a microsecond digit


def test_audit_endpoint_walks_only_new_records_and_full_verification_finds_an_old_edit(
    gw: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = gw.settings
    writer = AuditLog(s.audit_dir, s.audit_signing_key, s.audit.checkpoint_every)
    for i in range(250):
        writer.append("test.filler", principal="filler", n=i)
    with gw.client("auditor") as auditor:
        first = auditor.get("/v1/audit", params={"limit": 1}).json()["chain"]
        assert first["ok"] is True, first

        hashed = [0]
        real_hash = audit_log.record_hash

        def counting(record: dict[str, Any]) -> str:
            hashed[0] += 1
            return real_hash(record)

        monkeypatch.setattr(audit_log, "record_hash", counting)
        for i in range(3):
            writer.append("test.filler", principal="filler", n=1000 + i)
        hashed[0] = 0
        chain = auditor.get("/v1/audit", params={"limit": 1}).json()["chain"]
        assert chain["ok"] is True and chain["records"] == first["records"] + 3
        assert hashed[0] < 20, f"the endpoint hashed {hashed[0]} records to check 3 new ones"
        assert chain["verified"] == "incremental" and chain["checked"] == 3
        monkeypatch.setattr(audit_log, "record_hash", real_hash)

        log_path = s.audit_dir / "audit.log"
        time.sleep(0.05)
        original = _rewrite_line(log_path, 1, _flip_digit)  # record 2, edited in place ...
        try:
            writer.append("test.filler", principal="filler", n=2000)  # ... and the log grows meanwhile
            chain = auditor.get("/v1/audit", params={"limit": 1}).json()["chain"]
            assert chain["verified"] == "incremental" and chain["checked"] == 1  # the documented limit
            full = auditor.get("/v1/audit", params={"limit": 1, "verify": "full"}).json()["chain"]
            assert (full["ok"], full["first_bad"]) == (False, 2), full
            cli = verify_all(s)  # `enclave audit verify`
            assert (cli.ok, cli.first_bad) == (False, 2)
            again = auditor.get("/v1/audit", params={"limit": 1}).json()["chain"]
            assert (again["ok"], again["first_bad"]) == (False, 2)  # once found, it stays reported
        finally:
            lines = log_path.read_bytes().splitlines(keepends=True)
            lines[1] = original
            log_path.write_bytes(b"".join(lines))
        assert auditor.get("/v1/audit", params={"limit": 1}).json()["chain"]["ok"] is True

        time.sleep(0.05)
        original = _rewrite_line(log_path, 1, _flip_digit)  # an edit in place without new records
        try:
            chain = auditor.get("/v1/audit", params={"limit": 1}).json()["chain"]
            assert (chain["ok"], chain["first_bad"]) == (False, 2), chain
        finally:
            lines = log_path.read_bytes().splitlines(keepends=True)
            lines[1] = original
            log_path.write_bytes(b"".join(lines))
        assert auditor.get("/v1/audit", params={"limit": 1}).json()["chain"]["ok"] is True
    assert verify_all(s).ok


# -- 9c: owner-only data directory ---------------------------------------------------------------------


def test_everything_in_the_data_directory_is_owner_only(gw: Gateway) -> None:
    with gw.client("hr") as hr, gw.client("eng") as eng:
        upload(hr, "hr-only", {"salaries.txt": "Salary review for Jane Doe, phone 555-0143."}, "hr")
        assert eng.post("/v1/search", json={"question": "travel", "collection": "shared"}).status_code == 200
    data = gw.settings.data_dir
    loose = []
    names = set()
    for root, dirs, files in os.walk(data):
        for path in [Path(root)] + [Path(root, n) for n in dirs + files]:
            st = os.lstat(path)
            names.add(path.name)
            if not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o077:
                loose.append(f"{oct(stat.S_IMODE(st.st_mode))} {path.relative_to(data.parent)}")
    assert not loose, "readable by group or others:\n" + "\n".join(loose)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert {"audit.log", "head.json", "ingest.sqlite", "jobs.sqlite"} <= names, sorted(names)
    assert any(n.endswith("-wal") for n in names) and (data / "qdrant").is_dir()


# -- 9d: a collection name that is a path -----------------------------------------------------------------


def test_a_collection_name_with_dots_never_reaches_the_vault_files(gw: Gateway) -> None:
    (gw.settings.data_dir / "vault").mkdir(mode=0o700, exist_ok=True)  # 'vault/..' resolves once it exists
    outside = gw.settings.data_dir / "evil.vault"  # what 'vault/../evil.vault' would name
    outside.write_bytes(os.urandom(64))
    os.chmod(outside, 0o600)
    try:
        # An administrator: the search skips the "can you read anything here" check and the
        # question's names are looked up in the collection's vault.
        with gw.client("admin") as admin:
            for name in ("../evil", "../../evil", "..", "a/../../evil"):
                r = admin.post("/v1/search", json={"question": "Where does Jane Doe work?", "collection": name})
                assert r.status_code == 400 and r.json()["error"] == "InvalidName", (name, r.status_code, r.text)
                assert "vault" not in r.text.lower(), r.text
        assert not (gw.settings.data_dir / ".evil.lock").exists()
        assert sorted(p.name for p in gw.settings.data_dir.iterdir() if p.name.endswith(".lock")) == []
    finally:
        outside.unlink()

"""Issue #18, findings 9c and 9d at unit level: everything Enclave creates under the data directory
is owner-only whatever the umask, and a collection name never becomes a path outside the vault."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from enclave_core.audit import AuditLog
from enclave_core.errors import InputError
from enclave_core.keys import atomic_write
from enclave_core.runtime import Core
from enclave_core.vault import Vault, VaultError
from ingest.manifest import Manifest
from tests.conftest import make_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def umask022() -> Iterator[None]:
    """A typical service umask (files 0644, directories 0755); restored afterwards."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def loose(root: Path) -> list[str]:
    out = []
    for base, dirs, files in os.walk(root):
        for path in [Path(base)] + [Path(base, n) for n in dirs + files]:
            if not path.is_symlink() and mode(path) & 0o077:
                out.append(f"{oct(mode(path))} {path.relative_to(root)}")
    return out


# -- 9c ------------------------------------------------------------------------------------------------


def test_core_makes_an_existing_data_directory_owner_only_and_sets_the_umask(tmp_path: Path, umask022: None) -> None:
    data = tmp_path / "data"
    (data / "state" / "deep").mkdir(parents=True)
    (data / "state" / "deep" / "old.sqlite").write_bytes(b"x")
    os.chmod(data / "state" / "deep" / "old.sqlite", 0o664)
    (data / "link").symlink_to("/etc/hostname")  # never followed
    before = mode(Path("/etc/hostname"))
    Core(make_settings(data))
    assert mode(data) == 0o700 and not loose(data)
    assert mode(Path("/etc/hostname")) == before
    current = os.umask(0o022)
    assert current == 0o077


def test_sqlite_files_and_their_wal_are_0600_whatever_the_umask(tmp_path: Path, umask022: None) -> None:
    manifest = Manifest(tmp_path / "state" / "ingest.sqlite")
    try:
        manifest.begin("hr", "d1", ["c1"])
        names = {p.name for p in (tmp_path / "state").iterdir()}
        assert {"ingest.sqlite", "ingest.sqlite-wal", "ingest.sqlite-shm"} <= names
        assert not loose(tmp_path / "state")
    finally:
        manifest.close()


def test_private_file_creates_0600_and_tightens_an_existing_file(tmp_path: Path, umask022: None) -> None:
    from enclave_core.settings import private_file

    fresh = private_file(tmp_path / "new" / "db.sqlite")
    assert mode(fresh) == 0o600 and mode(fresh.parent) == 0o700
    old = tmp_path / "old.sqlite"
    old.write_bytes(b"keep me")
    os.chmod(old, 0o644)
    private_file(old)
    assert mode(old) == 0o600 and old.read_bytes() == b"keep me"


def test_atomic_write_gives_exactly_0600_even_over_a_leftover_temp_file(tmp_path: Path, umask022: None) -> None:
    target = tmp_path / "secrets" / "api-keys.json"
    target.parent.mkdir()
    leftover = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    leftover.write_bytes(b"old")
    os.chmod(leftover, 0o644)
    atomic_write(target, b"{}")
    assert mode(target) == 0o600
    atomic_write(tmp_path / "fresh" / "k.key", b"k")
    assert mode(tmp_path / "fresh") == 0o700


def test_the_audit_log_is_owner_only_without_a_core(tmp_path: Path, umask022: None) -> None:
    """`enclave keys` and `enclave audit` open the log without a Core: its files are 0600 anyway."""
    log = AuditLog(tmp_path / "audit", tmp_path / "secrets" / "audit.key", checkpoint_every=1)
    log.append("key.create", principal="local-admin")
    assert log.verify().ok
    assert {p.name for p in log.directory.iterdir()} >= {"audit.log", "head.json", "checkpoints.log"}
    assert not loose(tmp_path)


def test_secure_data_dir_reports_instead_of_failing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from enclave_core.settings import secure_data_dir

    data = tmp_path / "data"
    data.mkdir()
    (data / "gone").symlink_to(tmp_path / "missing")  # a dangling link is left alone
    old = os.umask(0o022)
    try:
        secure_data_dir(data)
    finally:
        os.umask(old)
    assert mode(data) == 0o700 and not caplog.records


# -- 9d ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../outside", "../../outside", "..", "a/../../outside", "/tmp/outside", "HR", ""])
def test_a_collection_name_is_checked_before_any_vault_path_is_built(tmp_path: Path, name: str) -> None:
    vault = Vault(tmp_path / "data" / "vault", os.urandom(32))
    (tmp_path / "data" / "vault").mkdir(parents=True)
    (tmp_path / "data" / "outside.vault").write_bytes(os.urandom(64))  # what '../outside' would read
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    calls = [
        lambda: vault.assign(name, [("PERSON", "Jane Doe", "d1")]),
        lambda: vault.lookup(name, "PERSON", "Jane Doe"),
        lambda: vault.reveal(name, "<PERSON_1>"),
        lambda: vault.forget_document(name, "d1"),
        lambda: vault.forget_value(name, "Jane Doe"),
    ]
    for call in calls:
        with pytest.raises(InputError, match="invalid collection name"):
            call()
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_valid_name_still_works_and_a_damaged_file_is_still_reported(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "vault", os.urandom(32))
    assert vault.assign("hr-2026", [("PERSON", "Jane Doe", "d1")]) == ["<PERSON_1>"]
    (tmp_path / "vault" / "hr-2026.vault").write_bytes(os.urandom(64))
    with pytest.raises(VaultError):
        vault.lookup("hr-2026", "PERSON", "Jane Doe")

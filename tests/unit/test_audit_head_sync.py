"""The signed head off the request path: a lone append syncs only the log (one fdatasync); the
head and its anchor are replaced before append returns (so verify sees them and catches a
truncation at once) and fsync'd by a timer within ``head_sync_after_s``, at exit, or in the batch
itself with ``head_sync_after_s=0``; a failed timed sync fails the next append (rolled back)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from enclave_core.audit.head import HEAD_BYTES
from enclave_core.audit.log import AuditLog, AuditWriteFailed
from tests.unit.test_audit_group_commit import FsyncSpy, _spy

REPO = Path(__file__).resolve().parents[2]


def _log(tmp_path: Path, sync_after_s: float) -> AuditLog:
    log = AuditLog(tmp_path / "audit", tmp_path / "secrets" / "audit.key", head_sync_after_s=sync_after_s)
    log.append("setup")  # creates (and fsyncs) the signing key once, before any spy looks
    log.head.sync_if_dirty()
    return log


def _ours(spy: FsyncSpy, root: Path) -> list[Path]:
    return [p for p in spy.other_syncs if p.is_relative_to(root)]


def _head_syncs(spy: FsyncSpy, log: AuditLog) -> set[str]:
    assert log.anchor_path is not None
    wanted = {log.head_path.resolve(), log.anchor_path.resolve(), log.directory.resolve(), log.anchor_path.parent}
    return {p.name for p in spy.other_syncs if p.resolve() in wanted}


def test_a_lone_signed_append_syncs_only_the_log_yet_verify_sees_its_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _log(tmp_path, 60.0)  # no timed sync during the test
    spy = _spy(monkeypatch, log)
    inode = log.head_path.stat().st_ino
    for i in range(3):
        record = log.append("search", i=i)
        # Rewritten in place (a rename costs a forced write-back on ext4), one fixed-size block.
        assert (log.head_path.stat().st_ino, log.head_path.stat().st_size) == (inode, HEAD_BYTES)
        assert spy.durable_bytes == log.path.stat().st_size  # the record is durable on return
        assert json.loads(log.head_path.read_text())["seq"] == record["seq"]
        assert log.anchor_path is not None and json.loads(log.anchor_path.read_text())["seq"] == record["seq"]
    assert spy.audit_fsyncs == 3
    # (Only this test's files: another test's log may sync its own head on its timer meanwhile.)
    assert _ours(spy, tmp_path) == [], "the head and anchor must not be fsync'd on the request path"
    assert log.verify().ok
    # A truncation right after the appends is caught: the head (not yet fsync'd) is already there.
    lines = log.path.read_bytes().splitlines(keepends=True)
    log.path.write_bytes(b"".join(lines[:-1]))
    result = log.verify()
    assert not result.ok and "truncated" in result.reason, result


def test_the_head_and_anchor_become_durable_within_the_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _log(tmp_path, 0.05)
    spy = _spy(monkeypatch, log)
    log.append("search")
    deadline = time.monotonic() + 10
    while log.head.syncs == 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert log.head.syncs == 2
    assert log.anchor_path is not None
    assert _head_syncs(spy, log) == {"head.json", log.anchor_path.name, "audit", log.anchor_path.parent.name}
    # Appends inside one window share one timed sync: at most one sync per window they span.
    began = time.monotonic()
    for i in range(20):
        log.append("search", i=i)
    windows = (time.monotonic() - began) / 0.05
    time.sleep(0.5)
    assert 3 <= log.head.syncs <= 2 + windows + 1, (log.head.syncs, windows)
    assert log.verify().ok


def test_window_zero_fsyncs_head_and_anchor_in_the_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _log(tmp_path, 0)
    spy = _spy(monkeypatch, log)
    log.append("search")
    assert log.anchor_path is not None
    assert sorted(p.name for p in _ours(spy, tmp_path)) == sorted(["head.json", log.anchor_path.name])
    assert log.head.syncs == 2


def test_pending_head_is_synced_at_exit(tmp_path: Path) -> None:
    code = f"""
import atexit, os, sys
from pathlib import Path
synced = []
real = os.fsync
def spy(fd):
    synced.append(os.readlink(f"/proc/self/fd/{{fd}}"))
    real(fd)
os.fsync = spy
atexit.register(lambda: print("SYNCED", sorted(Path(p).name for p in synced)))  # runs last
from enclave_core.audit.log import AuditLog
tmp = Path({str(tmp_path)!r})
log = AuditLog(tmp / "audit", tmp / "secrets" / "audit.key", head_sync_after_s=600)
log.append("search")
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "head.json" in out and "audit.key.head" in out, out


def test_a_failed_timed_sync_fails_the_next_append_and_leaves_the_log_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _log(tmp_path, 60.0)
    real = os.fsync

    def failing(fd: int) -> None:
        if "head" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.EIO, "Input/output error")
        real(fd)

    monkeypatch.setattr(os, "fsync", failing)
    with pytest.raises(OSError):
        log.head.sync()
    with pytest.raises(AuditWriteFailed):
        log.append("search")
    assert [r["action"] for r in log.records()] == ["setup"]
    monkeypatch.setattr(os, "fsync", real)
    log.append("search")
    result = log.verify()
    assert result.ok and result.records == 2, result


def test_verify_while_another_writer_appends_never_reports_a_false_failure(tmp_path: Path) -> None:
    """verify() reads the last records and the head under the log's shared lock: an append landing
    between its walk and its reading of the head (rewritten in place) cannot look like truncation."""
    writer = _log(tmp_path, 60.0)
    reader = AuditLog(writer.directory, writer._signing_key)
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(150):  # bounded: on a slow host the writers must not outrun the test
                if stop.is_set():
                    break
                writer.append("search")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        results = [reader.verify() for _ in range(30)]
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors[:3]
    bad = [r for r in results if not r.ok]
    assert not bad, bad[:3]
    assert results[-1].records > results[0].records  # the appends did overlap the verifications


def test_the_window_is_a_setting(tmp_path: Path) -> None:
    from enclave_core.runtime import Core
    from tests.conftest import make_settings

    assert Core(make_settings(tmp_path / "a")).audit.head.sync_after_s == 1.0
    strict = Core(make_settings(tmp_path / "b", ENCLAVE_AUDIT__HEAD_SYNC_S="0")).audit
    assert strict.head.sync_after_s == 0

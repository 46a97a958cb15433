"""Group commit in the audit log: appends that arrive together share one fsync and one signed
head, yet every caller returns only once its own record is durable, the chain stays whole, and a
failed batch leaves the log as it was (every caller in it gets the error)."""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from enclave_core.audit import log as audit_log
from enclave_core.audit.log import AuditLog, AuditWriteFailed

THREADS, PER_THREAD = 12, 10


class FsyncSpy:
    """Wraps os.fsync and os.fdatasync as the audit log calls them: records, per file, how many
    bytes of it had been made durable, optionally slows every sync of the log down (so that appends
    pile up behind it) or fails the n-th sync of the audit log. ``other_syncs``: every other file's."""

    def __init__(self, audit_path: Path, delay_s: float = 0.0, fail_at: int | None = None) -> None:
        self.audit_path = audit_path.resolve()
        self.delay_s = delay_s
        self.fail_at = fail_at
        self.audit_fsyncs = 0
        self.other_syncs: list[Path] = []
        self.durable_bytes = 0  # of audit.log
        self._lock = threading.Lock()
        self._real_fsync, self._real_fdatasync = os.fsync, os.fdatasync

    def fsync(self, fd: int) -> None:
        self._sync(fd, self._real_fsync)

    def fdatasync(self, fd: int) -> None:
        self._sync(fd, self._real_fdatasync)

    def _sync(self, fd: int, real: Callable[[int], None]) -> None:
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if path != self.audit_path:
            with self._lock:
                self.other_syncs.append(path)
            real(fd)
            return
        with self._lock:
            self.audit_fsyncs += 1
            number = self.audit_fsyncs
        time.sleep(self.delay_s)
        if number == self.fail_at:
            raise OSError(errno.ENOSPC, "No space left on device")
        size = os.fstat(fd).st_size
        real(fd)
        with self._lock:
            self.durable_bytes = max(self.durable_bytes, size)


def _spy(monkeypatch: pytest.MonkeyPatch, log: AuditLog, **kwargs: Any) -> FsyncSpy:
    log.directory.mkdir(parents=True, exist_ok=True)
    log.path.touch()
    spy = FsyncSpy(log.path, **kwargs)
    monkeypatch.setattr(audit_log.os, "fsync", spy.fsync)
    monkeypatch.setattr(audit_log.os, "fdatasync", spy.fdatasync)
    return spy


def _hammer(work: Callable[[int, int], None], threads: int = THREADS, per_thread: int = PER_THREAD) -> None:
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run(t: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            try:
                work(t, i)
            except BaseException as exc:  # reported below
                errors.append(exc)

    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=120)
    assert not errors, errors[:3]


def _line_ends(log: AuditLog) -> dict[int, int]:
    """seq -> byte offset just after its line."""
    ends, offset = {}, 0
    for line in log.path.read_bytes().splitlines(keepends=True):
        offset += len(line)
        ends[len(ends) + 1] = offset
    return ends


@pytest.mark.parametrize("signed", [False, True])
def test_concurrent_appends_share_fsyncs_and_each_returns_only_once_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signed: bool
) -> None:
    log = AuditLog(tmp_path / "audit", tmp_path / "secrets" / "audit.key" if signed else None, checkpoint_every=7)
    spy = _spy(monkeypatch, log, delay_s=0.01)  # a slow disk: appends queue behind each fsync
    durable_at_return: dict[int, int] = {}
    returned: dict[int, dict[str, Any]] = {}

    def work(t: int, i: int) -> None:
        record = log.append("search", worker=f"t{t}", i=i)
        durable_at_return[record["seq"]] = spy.durable_bytes
        returned[record["seq"]] = record

    _hammer(work)
    total = THREADS * PER_THREAD
    result = log.verify()
    assert result.ok, result
    assert result.records == total
    # Every record was on disk (covered by an fsync) before its append() returned.
    ends = _line_ends(log)
    late = [seq for seq, end in ends.items() if durable_at_return[seq] < end]
    assert not late, f"records returned before their fsync: {late[:5]}"
    # What each caller got back is exactly what the log holds at that position.
    assert [r["hash"] for r in log.records()] == [returned[s]["hash"] for s in sorted(returned)]
    # Group commit happened: far fewer fsyncs of the log than records.
    assert spy.audit_fsyncs <= total // 2, spy.audit_fsyncs


def test_a_lone_append_is_written_and_synced_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = AuditLog(tmp_path / "audit")
    spy = _spy(monkeypatch, log)
    for i in range(3):
        record = log.append("search", i=i)
        assert spy.durable_bytes == log.path.stat().st_size
        assert record["seq"] == i + 1
    assert spy.audit_fsyncs == 3


def test_a_failed_batch_raises_in_every_caller_and_leaves_the_log_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(tmp_path / "audit", tmp_path / "secrets" / "audit.key")
    log.append("setup")
    spy = _spy(monkeypatch, log, delay_s=0.02, fail_at=2)  # the second batch hits a full disk
    ok: list[dict[str, Any]] = []
    failed: list[tuple[int, int]] = []

    def work(t: int, i: int) -> None:
        try:
            ok.append(log.append("search", worker=f"t{t}", i=i))
        except AuditWriteFailed:
            failed.append((t, i))

    _hammer(work, threads=8, per_thread=3)
    assert failed, "the failing fsync must reach its callers"
    assert spy.audit_fsyncs > 2
    result = log.verify()
    assert result.ok, result
    kept = [(r["worker"], r["i"]) for r in log.records() if r["action"] == "search"]
    # Exactly the records whose callers were told "written" are in the log, none of the failed batch.
    assert sorted(kept) == sorted((r["worker"], r["i"]) for r in ok)
    assert not set(kept) & {(f"t{t}", i) for t, i in failed}
    assert len(ok) + len(failed) == 8 * 3


def test_group_commit_keeps_the_chain_with_a_second_process_writing(tmp_path: Path) -> None:
    """The file lock still orders batches against another writer (the CLI beside the gateway):
    here a second AuditLog instance stands in for it (its own queue, the same file)."""
    a, b = AuditLog(tmp_path / "audit"), AuditLog(tmp_path / "audit")

    def work(t: int, i: int) -> None:
        (a if t % 2 else b).append("search", worker=f"t{t}", i=i)

    _hammer(work)
    result = a.verify()
    assert result.ok and result.records == THREADS * PER_THREAD, result

"""The signed head of the audit chain (``head.json``) and its anchor copy beside the signing key.

Both are rewritten for every batch the log writes, before any caller of that batch returns, so
every reader (``enclave audit verify``, the gateway's ``GET /v1/audit``, someone about to truncate
the log) sees the head of the newest record at once. They are written in place, one ``pwrite`` of
a fixed-size block (JSON padded with spaces), under the log's exclusive lock, which verification
holds shared while it reads them; a temporary file and a rename (on ext4 a forced write-back, as
costly as a sync) only when the file is missing or not of that size. What may lag is only their
durability: by default they are fsync'd by a timer at most
``sync_after_s`` after they changed, instead of on every request (two fsyncs a lone request
paid on top of the log's own). A process crash loses nothing (the page cache outlives it); a
power loss or kernel crash inside that window leaves an older head on disk than the log's
last records, which ``verify`` reports as "records after the signed head" until the next
append signs a new head. ``sync_after_s=0`` fsyncs both on every batch, as before.

The log's records are made durable before the head is replaced, so the head on disk is never
ahead of the records on disk.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import weakref
from pathlib import Path

from enclave_core.audit.signing import AuditSigner

__all__ = ["HEAD_BYTES", "HEAD_SYNC_AFTER_S", "SignedHead", "private_opener", "write_json_private"]

log = logging.getLogger(__name__)

HEAD_SYNC_AFTER_S = 1.0
HEAD_BYTES = 512  # a head is ~170 bytes of JSON; within one disk sector, so a power loss cannot tear it


def private_opener(path: str, flags: int) -> int:
    """Opener: files the audit log creates are owner-only (0600) whatever the umask."""
    return os.open(path, flags, 0o600)


def write_json_private(path: Path, data: dict[str, object] | bytes, *, durable: bool = True) -> None:
    """Replace ``path`` atomically (temp file, rename; fsync'd first if ``durable``), owner-only."""
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb", opener=private_opener) as fh:
            os.fchmod(fh.fileno(), 0o600)  # a leftover temp file keeps its old mode
            fh.write(body)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _padded(head: dict[str, object]) -> bytes:
    text = json.dumps(head).encode()
    if len(text) >= HEAD_BYTES:
        raise ValueError(f"a signed head of {len(text)} bytes does not fit {HEAD_BYTES}")
    return text.ljust(HEAD_BYTES - 1) + b"\n"


def _write_in_place(path: Path, block: bytes, durable: bool) -> None:
    """Overwrite ``path`` with ``block`` (same size) in one pwrite; else replace it atomically."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
    except OSError:  # missing, or a link: a fresh file
        write_json_private(path, block, durable=durable)
        return
    try:
        st = os.fstat(fd)
        if st.st_size != len(block) or st.st_nlink != 1 or (st.st_mode & 0o077):
            write_json_private(path, block, durable=durable)  # not ours as we left it: a fresh file
            return
        if os.pwrite(fd, block, 0) != len(block):
            raise OSError(f"short write to {path}")
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_path(path: Path) -> None:
    """fsync a file, then its directory (which holds the rename that put it there)."""
    for target, flags in ((path, os.O_RDONLY), (path.parent, os.O_RDONLY | os.O_DIRECTORY)):
        fd = os.open(target, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sync_at_exit(ref: weakref.ref[SignedHead]) -> None:
    head = ref()
    if head is not None:
        try:
            head.sync_if_dirty()
        except OSError as exc:  # the volume failed, or the directory is gone: nothing left to do
            log.error("audit: the signed head could not be made durable at exit: %s", exc)


class SignedHead:
    """Writes the signed head and its anchor; keeps them durable within ``sync_after_s``."""

    def __init__(self, head_path: Path, anchor_path: Path | None, sync_after_s: float = HEAD_SYNC_AFTER_S) -> None:
        self.head_path = head_path
        self.anchor_path = anchor_path
        self.sync_after_s = sync_after_s
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._timer_pid = 0
        self._dirty = False  # replaced since the last sync
        self._sync_error: OSError | None = None  # the last timed sync failed: the next publish retries it
        self.syncs = 0  # completed syncs (tests, metrics)
        atexit.register(_sync_at_exit, weakref.ref(self))

    def _paths(self) -> list[Path]:
        return [self.head_path] + ([self.anchor_path] if self.anchor_path is not None else [])

    def publish(self, signer: AuditSigner, seq: int, digest: str) -> None:
        """Called under the log's file lock, after the records up to ``seq`` are durable."""
        block = _padded(signer.sign(seq, digest, "head"))
        durable = self.sync_after_s <= 0
        if self._sync_error is not None:
            self.sync()  # raises while the volume still fails: the batch is rolled back
        for path in self._paths():
            _write_in_place(path, block, durable)
        if durable:
            self.syncs += 1
            return
        with self._lock:
            self._dirty = True
            if self._timer is not None and self._timer_pid == os.getpid():
                return  # a sync is already due; it opens the files after this rename
            timer = threading.Timer(self.sync_after_s, self._sync_due)
            timer.daemon = True
            self._timer, self._timer_pid = timer, os.getpid()
        timer.start()

    def remove(self) -> None:
        """The log is empty again (a first batch rolled back): no head."""
        self.head_path.unlink(missing_ok=True)

    def _sync_due(self) -> None:
        with self._lock:
            self._timer = None  # a publish from now on schedules its own sync
        try:
            self.sync_if_dirty()
        except OSError as exc:
            log.error("audit: the signed head could not be made durable: %s", exc)

    def sync_if_dirty(self) -> None:
        if self._dirty:
            self.sync()

    def sync(self) -> None:
        """fsync the head and the anchor as they are now (and their directories)."""
        with self._lock:
            self._dirty = False
        try:
            for path in self._paths():
                if path.exists():
                    _fsync_path(path)
        except OSError as exc:
            with self._lock:
                self._dirty, self._sync_error = True, exc
            raise
        self._sync_error = None
        self.syncs += 1

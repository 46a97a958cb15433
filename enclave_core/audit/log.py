"""Append-only, hash-chained audit log (JSON lines under ``<data>/audit/``).

Every record carries ``prev``, the SHA-256 of the record before it, and ``hash``, the
SHA-256 of its own canonical JSON without the ``hash`` field; editing, inserting,
deleting or reordering any record breaks the chain at that record. Appends take an
exclusive file lock (the gateway and the CLI may write at once) and are on disk (fdatasync)
before ``append`` returns; appends that arrive together (concurrent requests) are written as one
batch with one sync and one signed head (group commit).

With a signer (Ed25519, ``signing.py``) every record is signed, the head of the chain is signed
after every batch (``head.py``: replaced before the batch's callers return, made durable within
a second) and checkpoints are kept, so truncation and a rebuilt chain are detected too.

No caller can write an unbounded record: every string in a record (nested ones too) is cut to
``max_field_chars`` with a marker saying how much was dropped, before the record is hashed.

``verify()`` walks the whole chain (``enclave audit verify``); ``verify_incremental()`` (the
gateway's ``GET /v1/audit``) walks it once, then only the records appended since its last call.

Callers must never put raw personal data in a record: questions arrive already redacted.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from enclave_core.audit.head import HEAD_SYNC_AFTER_S, SignedHead
from enclave_core.audit.head import private_opener as _private
from enclave_core.audit.signing import AuditSigner, load_public_key, verify_signed
from enclave_core.errors import EnclaveError

__all__ = [
    "GENESIS",
    "MAX_FIELD_CHARS",
    "AuditLog",
    "AuditLogDamaged",
    "AuditWriteFailed",
    "VerifyResult",
    "canonical",
    "cap_strings",
    "free_bytes",
    "record_hash",
]


class AuditWriteFailed(EnclaveError):
    """A record could not be written (disk full, I/O error); the log is left as it was."""


class AuditLogDamaged(EnclaveError):
    """The log's last record cannot be read; appends stop until an operator checks it."""


GENESIS = "0" * 64
MAX_FIELD_CHARS = 4096  # a whole question (the API allows 4000 characters) fits


def cap_strings(value: Any, limit: int = MAX_FIELD_CHARS) -> Any:
    """``value`` with every string in it (dict keys and values, list items, nested) cut to
    ``limit`` characters plus a marker that says how many were dropped."""
    if isinstance(value, str):
        return value if len(value) <= limit else f"{value[:limit]}...[cut {len(value) - limit} chars]"
    if isinstance(value, dict):
        return {cap_strings(k, limit): cap_strings(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [cap_strings(v, limit) for v in value]
    return value


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer may still use on the filesystem that holds ``path`` (or would
    hold it: the nearest existing parent is asked)."""
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    st = os.statvfs(probe)
    return st.f_bavail * st.f_frsize


def canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k not in ("hash", "sig")}
    return hashlib.sha256(canonical(body)).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    first_bad: int | None = None  # 1-based line number of the first bad record
    reason: str = ""
    scope: str = "full"  # "full": every record was checked; "incremental": only `checked` new ones
    checked: int | None = None  # records walked by this verification (incremental: the new ones)


@dataclass(frozen=True)
class _Checked:
    """How far verify_incremental() got: the chain up to ``size`` bytes checked and intact."""

    ident: tuple[int, int]  # (st_dev, st_ino) of audit.log
    size: int  # bytes of whole, checked records
    mtime_ns: int
    count: int
    last_hash: str
    last_start: int  # offset of the last checked record's line
    checkpoints_size: int  # bytes of checkpoints.log checked


_START = _Checked((0, 0), 0, 0, 0, GENESIS, 0, 0)


@dataclass(eq=False)
class _Pending:
    """One append waiting for its batch: what to write, then the record written or the error."""

    action: str
    fields: dict[str, Any]
    record: dict[str, Any] | None = None
    error: BaseException | None = None
    done: bool = False


class AuditLog:
    def __init__(
        self,
        directory: Path,
        signing_key: Path | None = None,
        checkpoint_every: int = 100,
        *,
        max_field_chars: int = MAX_FIELD_CHARS,
        head_sync_after_s: float = HEAD_SYNC_AFTER_S,
    ) -> None:
        """``head_sync_after_s``: how long the signed head and its anchor may stay un-fsync'd after
        a batch (``head.py``; they are replaced at once either way); 0 fsyncs them in every batch."""
        self.directory = directory
        self.max_field_chars = max_field_chars
        self.path = directory / "audit.log"
        self.head_path = directory / "head.json"
        self.checkpoints_path = directory / "checkpoints.log"
        self.public_key_path = directory / "audit-signing.pub"
        self.checkpoint_every = checkpoint_every
        self._signing_key = signing_key
        self._signer: AuditSigner | None = None
        self.head = SignedHead(self.head_path, self.anchor_path, head_sync_after_s)
        self._batch = threading.Condition()  # group commit: the queue and who is writing it
        self._queue: list[_Pending] = []
        self._writing = False
        self._verify_lock = threading.Lock()
        self._checked: _Checked | None = None  # verify_incremental(): the chain checked so far
        self._failed: tuple[tuple[int, int, int, int], VerifyResult] | None = None  # its last failure
        # Called with each written record's action (the metrics count records written; never the fields).
        self.on_append: list[Callable[[str], None]] = []

    def free_bytes(self) -> int:
        """Free space on the audit volume (see ``free_bytes``)."""
        return free_bytes(self.directory)

    def _get_signer(self) -> AuditSigner | None:
        if self._signing_key is None:
            return None
        if self._signer is None:
            self._signer = AuditSigner(self._signing_key)
            pem = self._signer.public_pem()
            if not self.public_key_path.exists() or self.public_key_path.read_bytes() != pem:
                with open(self.public_key_path, "wb", opener=_private) as fh:
                    fh.write(pem)
        return self._signer

    def _last_record(self, fh: Any) -> tuple[int, str]:
        """(seq, hash) of the last record, reading backwards from the end of the file."""
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        if end == 0:
            return 0, GENESIS
        block = min(end, 1 << 16)
        while True:
            fh.seek(end - block)
            tail = fh.read(block)
            lines = tail.rstrip(b"\n").split(b"\n")
            if len(lines) > 1 or block == end:
                try:
                    last = json.loads(lines[-1])
                    seq, digest = int(last["seq"]), str(last["hash"])
                except (ValueError, KeyError, TypeError) as exc:
                    # Never write past damage: appending would bury it. Someone must look first.
                    raise AuditLogDamaged(
                        f"{self.path}: the last record is damaged; run 'enclave audit verify'"
                    ) from exc
                if not tail.endswith(b"\n"):
                    fh.write(b"\n")  # a complete record lost its newline (torn write): finish the line
                return seq, digest
            block = min(end, block * 4)

    def append(self, action: str, **fields: Any) -> dict[str, Any]:
        """Append one record; return it (with seq and hash) once it is fsync'd and the head signed.
        Strings over ``max_field_chars`` are cut (with a marker): no caller writes an unbounded record.

        Group commit: appends arriving while another thread writes wait, then one of them writes
        them all (one lock, one fsync, one signed head), still chained one by one. A failed batch
        leaves nothing in the log and raises in every caller of it."""
        entry = _Pending(cap_strings(action, self.max_field_chars), cap_strings(fields, self.max_field_chars))
        with self._batch:
            self._queue.append(entry)
            while self._writing and not entry.done:
                self._batch.wait()
            if not entry.done:  # this thread writes everything queued so far, its own record included
                self._writing = True
                batch, self._queue = self._queue, []
        if not entry.done:
            try:
                self._commit(batch)
            finally:
                with self._batch:
                    self._writing = False
                    self._batch.notify_all()
        if entry.error is not None:
            raise entry.error
        assert entry.record is not None
        for observe in self.on_append:
            observe(entry.action)
        return entry.record

    def _commit(self, batch: list[_Pending]) -> None:
        """Write ``batch`` under the file lock: chain, one write, one fsync, one head; then mark
        every entry done (with its record, or with the error)."""
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            with open(self.path, "a+b", opener=_private) as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                try:
                    self._write_batch(fh, batch)
                finally:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        except BaseException as exc:
            error = exc if isinstance(exc, Exception) else AuditWriteFailed(f"audit record not written: {exc!r}")
            for entry in batch:
                entry.record, entry.error = None, error
            if not isinstance(exc, Exception):
                raise
        finally:
            for entry in batch:
                entry.done = True

    def _write_batch(self, fh: Any, batch: list[_Pending]) -> None:
        seq, prev = self._last_record(fh)
        first_seq, first_prev = seq, prev
        signer = self._get_signer()
        lines: list[bytes] = []
        for entry in batch:
            seq += 1
            record: dict[str, Any] = {
                "seq": seq,
                "ts": datetime.now(UTC).isoformat(timespec="microseconds"),
                "action": entry.action,
                **entry.fields,
                "prev": prev,
            }
            record["hash"] = prev = record_hash(record)
            if signer is not None:
                # Each record signed: a forged record, even in a fully recomputed chain, is named.
                record["sig"] = signer.sign(record["seq"], record["hash"], "record")["sig"]
            entry.record = record
            lines.append(canonical(record) + b"\n")
        end = fh.seek(0, os.SEEK_END)
        checkpoints_end = self.checkpoints_path.stat().st_size if self.checkpoints_path.exists() else 0
        try:
            fh.write(b"".join(lines))
            fh.flush()
            os.fdatasync(fh.fileno())  # the data and the new size; the mtime may wait
            self._sign_batch([e.record for e in batch if e.record is not None])
        except OSError as exc:
            # A full disk must not leave a record without its signed head: undo the whole batch.
            self._roll_back(fh, end, checkpoints_end, first_seq, first_prev)
            raise AuditWriteFailed(f"audit record not written: {exc.strerror or exc}") from exc

    def _roll_back(self, fh: Any, end: int, checkpoints_end: int, seq: int, digest: str) -> None:
        """Best effort (the disk may still be full): restore the log, checkpoints and head as they were."""
        with contextlib.suppress(OSError):
            fh.truncate(end)
            os.fdatasync(fh.fileno())
        with contextlib.suppress(OSError):
            if self.checkpoints_path.exists():
                os.truncate(self.checkpoints_path, checkpoints_end)
        with contextlib.suppress(OSError):
            self._sign_head(seq, digest) if seq else self.head.remove()

    def _sign_batch(self, records: list[dict[str, Any]]) -> None:
        """Called under the file lock: sign the head once for the batch's last record, and keep
        a checkpoint for every record of the batch that falls on one."""
        last = records[-1]
        self._sign_head(last["seq"], last["hash"])
        signer = self._get_signer()
        marks = [r for r in records if r["seq"] % self.checkpoint_every == 0]
        if signer is None or not marks:
            return
        with open(self.checkpoints_path, "ab", opener=_private) as cp:
            cp.write(b"".join(canonical(signer.sign(r["seq"], r["hash"], "checkpoint")) + b"\n" for r in marks))
            cp.flush()
            os.fdatasync(cp.fileno())

    def _sign_head(self, seq: int, digest: str) -> None:
        """Called under the file lock: sign the new head (and its anchor copy)."""
        signer = self._get_signer()
        if signer is not None:
            self.head.publish(signer, seq, digest)

    def sync_head(self) -> None:
        """Make the signed head and its anchor durable now (also done on a timer and at exit)."""
        self.head.sync_if_dirty()

    def records(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)

    def verify(self) -> VerifyResult:
        """Walk the chain; name the first record whose content, order or link is wrong."""
        prev = GENESIS
        count = 0
        try:
            public_key = self._trusted_public_key(0 if not self.path.exists() else int(self.path.stat().st_size > 0))
        except ValueError as exc:
            return VerifyResult(False, 0, 1, str(exc))
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        hashes: dict[int, str] = {}  # for the checkpoints, so the log is read once
        with open(self.path, "a+b", opener=_private) as fh:
            fh.seek(0)
            # Unlocked, only what was there when verify began (appends must not outrun the walk);
            # then, under the lock, the records appended meanwhile and the head, as a writer left them.
            end = os.fstat(fh.fileno()).st_size
            for locked in (False, True):
                if locked:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
                while (locked or fh.tell() < end) and (line := fh.readline()):
                    if not locked and not line.endswith(b"\n"):
                        fh.seek(-len(line), os.SEEK_CUR)  # an append under way: read it under the lock
                        break
                    count += 1
                    record, problem = self._check_line(line, count, prev, public_key)
                    if record is None:
                        return VerifyResult(False, count - 1, count, problem)
                    prev = hashes[count] = record["hash"]
            return replace(self._verify_signatures(count, prev, hashes), checked=count)

    @staticmethod
    def _check_line(
        line: bytes, number: int, prev: str, public_key: Ed25519PublicKey | None
    ) -> tuple[dict[str, Any] | None, str]:
        """(record, "") if line ``number`` continues the chain after ``prev``; else (None, why)."""
        try:
            record = json.loads(line)
        except ValueError:
            return None, "not valid JSON"
        if not isinstance(record, dict) or "hash" not in record:
            return None, "not an audit record"
        if record.get("seq") != number:
            return None, f"sequence {record.get('seq')} != {number}"
        if record.get("prev") != prev:
            return None, "link to the previous record is broken"
        if record_hash(record) != record["hash"]:
            return None, "content does not match its hash"
        if public_key is not None and not verify_signed(
            public_key, {"seq": number, "hash": record["hash"], "sig": record.get("sig", "")}, "record"
        ):
            return None, "record signature is missing or invalid"
        return record, ""

    def verify_incremental(self, full: bool = False) -> VerifyResult:
        """verify() for a caller that asks often (``GET /v1/audit``): the first call walks the whole
        chain, later calls only the records appended since (with the signed head, the anchor and the
        new checkpoints, which are checked every time). A log that was replaced, shortened or
        rewritten in place (same size, new mtime) is walked again from the first record.

        What this does not see: an edit to a record it already checked, made together with new
        appends. ``verify()`` (``enclave audit verify``, or ``full=True``) walks the whole chain and
        finds every kind of tampering. Any problem found here is confirmed by ``verify()``.
        """
        with self._verify_lock:
            key = self._file_key()
            if not full and self._failed is not None and self._failed[0] == key:
                return self._failed[1]  # nothing changed since the last (failed) walk
            start = None if full else self._checked
            result, state = self._advance(start or _START)
            if not result.ok:
                result, state = self.verify(), None  # the authoritative answer, whatever the cause
            self._checked = state
            self._failed = None if result.ok else (key, result)
            return result

    def _file_key(self) -> tuple[int, int, int, int]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return (0, 0, -1, 0)
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def _advance(self, state: _Checked) -> tuple[VerifyResult, _Checked | None]:
        """Check the records after ``state``: first the whole lines there now without a lock (the
        file only grows), then the rest and the signatures under a shared lock (appends wait)."""
        dev, ino, size, mtime_ns = self._file_key()
        if size < 0:
            return VerifyResult(False, 0, 1, "no audit log"), None  # verify() says whether that is fine
        if state.ident != (dev, ino) or size < state.size or (size == state.size and mtime_ns != state.mtime_ns):
            state = _START  # replaced, truncated or rewritten in place: from the first record
        try:
            public_key = self._trusted_public_key(int(size > 0))
        except ValueError as exc:
            return VerifyResult(False, 0, 1, str(exc)), None
        with open(self.path, "rb") as fh:
            if state.count and not self._still_there(fh, state):
                state = _START
            walked: dict[int, str] = {}
            since = state.count
            fh.seek(state.size)
            bad, state = self._walk(fh, state, public_key, walked, stop_at=size)
            if bad is not None:
                return bad, None
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
            try:
                bad, state = self._walk(fh, state, public_key, walked, stop_at=None)
                if bad is not None:
                    return bad, None
                st = os.fstat(fh.fileno())
                try:
                    cp_size = self.checkpoints_path.stat().st_size
                except FileNotFoundError:
                    cp_size = 0
                if cp_size < state.checkpoints_size:
                    return VerifyResult(False, state.count, 1, "checkpoints were removed"), None
                result = self._verify_signatures(
                    state.count, state.last_hash, walked, since=since, checkpoints_from=state.checkpoints_size
                )
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        if not result.ok:
            return result, None
        scope = "full" if since == 0 else "incremental"
        state = replace(state, ident=(st.st_dev, st.st_ino), mtime_ns=st.st_mtime_ns, checkpoints_size=cp_size)
        return replace(result, scope=scope, checked=state.count - since), state

    def _still_there(self, fh: Any, state: _Checked) -> bool:
        """Is the last record checked before still where it was, unchanged?"""
        fh.seek(state.last_start)
        try:
            record = json.loads(fh.read(state.size - state.last_start))
        except ValueError:
            return False
        return (
            isinstance(record, dict)
            and record.get("seq") == state.count
            and record.get("hash") == state.last_hash
            and record_hash(record) == state.last_hash
        )

    def _walk(
        self,
        fh: Any,
        state: _Checked,
        public_key: Ed25519PublicKey | None,
        walked: dict[int, str],
        stop_at: int | None,
    ) -> tuple[VerifyResult | None, _Checked]:
        """Check the lines from ``state.size`` on (up to ``stop_at``: whole lines only, an append
        may be under way); ``walked`` gets the hash of every record checked, by number."""
        number, prev, offset, last_start = state.count, state.last_hash, state.size, state.last_start
        while stop_at is None or offset < stop_at:
            line = fh.readline()
            if not line or (stop_at is not None and not line.endswith(b"\n")):
                break
            number += 1
            record, problem = self._check_line(line, number, prev, public_key)
            if record is None:
                return VerifyResult(False, number - 1, number, problem), state
            prev = record["hash"]
            walked[number] = prev
            last_start, offset = offset, offset + len(line)
        fh.seek(offset)
        return None, replace(state, size=offset, count=number, last_hash=prev, last_start=last_start)

    @property
    def anchor_path(self) -> Path | None:
        """A copy of the signed head kept beside the private key, outside the audit directory: it
        shows a deleted or rolled-back audit directory (a replayed older head.json) for what it is."""
        return self._signing_key.with_name(self._signing_key.name + ".head") if self._signing_key else None

    def _trusted_public_key(self, count: int) -> Ed25519PublicKey | None:
        """With the private key at hand, trust only its public half (a public key file in the audit
        directory could have been swapped along with a rebuilt chain); without it, the file."""
        has_file = self.public_key_path.exists()
        if self._signing_key is not None and self._signing_key.exists():
            signer = AuditSigner(self._signing_key)
            if has_file and self.public_key_path.read_bytes() != signer.public_pem():
                raise ValueError("audit-signing.pub does not match the signing key")
            anchored = self.anchor_path is not None and self.anchor_path.exists()
            if not has_file and (count or self.head_path.exists() or anchored):
                raise ValueError("public signing key is missing")
            return signer.public_key()
        if self._signing_key is not None and (count or self.head_path.exists()):
            # Configured to sign, yet the key is gone while a signed log exists: trust nothing here.
            raise ValueError("the configured audit signing key is missing")
        if has_file:
            return load_public_key(self.public_key_path)
        if self.head_path.exists():
            raise ValueError("public signing key is missing")
        return None

    def _verify_signatures(
        self,
        count: int,
        last_hash: str,
        hashes: dict[int, str],
        since: int = 0,
        checkpoints_from: int = 0,
    ) -> VerifyResult:
        """The chain is intact; now check it against the signed head, checkpoints and anchor.
        ``hashes``: the hash of every record walked (by number).

        Incremental use: ``hashes`` holds the records checked now (by number), all after ``since``;
        only the checkpoints after byte ``checkpoints_from`` of their file are read (they must all
        be for those records), and only checkpoints after record ``since`` are expected."""
        try:
            public_key = self._trusted_public_key(count)
        except ValueError as exc:
            return VerifyResult(False, count, 1, str(exc))
        if public_key is None:
            return VerifyResult(True, count)
        if not self.head_path.exists():
            if count == 0:
                return VerifyResult(True, 0)  # a new appliance: nothing written, nothing signed yet
            return VerifyResult(False, count, 1, "signed head is missing")
        try:
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
            checkpoints = [
                json.loads(line)
                for line in self._read_optional(self.checkpoints_path, checkpoints_from).splitlines()
                if line.strip()
            ]
            anchor = (
                json.loads(self.anchor_path.read_text()) if self.anchor_path and self.anchor_path.exists() else None
            )
            head_seq = int(head["seq"])
        except (ValueError, OSError, KeyError, TypeError) as exc:
            return VerifyResult(False, count, 1, f"signature files unreadable: {exc.__class__.__name__}")
        if not verify_signed(public_key, head, "head"):
            return VerifyResult(False, count, min(max(head_seq, 1), max(count, 1)), "signature of the head is invalid")
        if anchor is not None and verify_signed(public_key, anchor, "head") and int(anchor["seq"]) > head_seq:
            return VerifyResult(False, count, head_seq + 1, "log rolled back: a newer signed head exists")
        seen: set[int] = set()
        for cp in checkpoints:
            seq = int(cp.get("seq", 0)) if isinstance(cp, dict) else 0
            if not verify_signed(public_key, cp, "checkpoint"):
                return VerifyResult(False, count, max(seq, 1), "a checkpoint's signature is invalid")
            seen.add(seq)
            if seq > count:
                return VerifyResult(False, count, count + 1, f"log truncated: checkpoint at record {seq}")
            if hashes.get(seq) != cp["hash"]:
                return VerifyResult(False, count, seq, "record differs from its signed checkpoint")
        first = (since // self.checkpoint_every + 1) * self.checkpoint_every
        expected = set(range(first, head_seq + 1, self.checkpoint_every))
        if missing := sorted(expected - seen):
            return VerifyResult(False, count, missing[0], f"signed checkpoint of record {missing[0]} is missing")
        if head_seq > count:
            return VerifyResult(False, count, count + 1, f"log truncated: signed head is record {head_seq}")
        if head_seq < count:
            return VerifyResult(False, count, head_seq + 1, "records after the signed head")
        if head["hash"] != last_hash:
            return VerifyResult(False, count, count, "last record differs from the signed head")
        return VerifyResult(True, count)

    @staticmethod
    def _read_optional(path: Path, offset: int = 0) -> str:
        if not path.exists():
            return ""
        with open(path, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode("utf-8")

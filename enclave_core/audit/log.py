"""Append-only, hash-chained audit log (JSON lines under ``<data>/audit/``).

Every record carries ``prev``, the SHA-256 of the record before it, and ``hash``, the
SHA-256 of its own canonical JSON without the ``hash`` field; editing, inserting,
deleting or reordering any record breaks the chain at that record. Appends take an
exclusive file lock (the gateway and the CLI may write at once) and are fsync'd.

With a signer (Ed25519, ``signing.py``) the head of the chain is signed after every
append and checkpoints are kept, so truncation and a rebuilt chain are detected too.

Callers must never put raw personal data in a record: questions arrive already redacted.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from enclave_core.audit.signing import AuditSigner, load_public_key, verify_signed, write_json_atomic
from enclave_core.errors import EnclaveError

__all__ = ["GENESIS", "AuditLog", "AuditLogDamaged", "AuditWriteFailed", "VerifyResult", "canonical", "record_hash"]


class AuditWriteFailed(EnclaveError):
    """A record could not be written (disk full, I/O error); the log is left as it was."""


class AuditLogDamaged(EnclaveError):
    """The log's last record cannot be read; appends stop until an operator checks it."""


GENESIS = "0" * 64


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


class AuditLog:
    def __init__(self, directory: Path, signing_key: Path | None = None, checkpoint_every: int = 100) -> None:
        self.directory = directory
        self.path = directory / "audit.log"
        self.head_path = directory / "head.json"
        self.checkpoints_path = directory / "checkpoints.log"
        self.public_key_path = directory / "audit-signing.pub"
        self.checkpoint_every = checkpoint_every
        self._signing_key = signing_key
        self._signer: AuditSigner | None = None
        self._lock = threading.Lock()

    def _get_signer(self) -> AuditSigner | None:
        if self._signing_key is None:
            return None
        if self._signer is None:
            self._signer = AuditSigner(self._signing_key)
            pem = self._signer.public_pem()
            if not self.public_key_path.exists() or self.public_key_path.read_bytes() != pem:
                self.public_key_path.write_bytes(pem)
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
        """Append one record and return it (with seq and hash)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                seq, prev = self._last_record(fh)
                record: dict[str, Any] = {
                    "seq": seq + 1,
                    "ts": datetime.now(UTC).isoformat(timespec="microseconds"),
                    "action": action,
                    **fields,
                    "prev": prev,
                }
                record["hash"] = record_hash(record)
                signer = self._get_signer()
                if signer is not None:
                    # Each record signed: a forged record, even in a fully recomputed chain, is named.
                    record["sig"] = signer.sign(record["seq"], record["hash"], "record")["sig"]
                end = fh.seek(0, os.SEEK_END)
                checkpoints_end = self.checkpoints_path.stat().st_size if self.checkpoints_path.exists() else 0
                try:
                    fh.write(canonical(record) + b"\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                    self._sign_head(record["seq"], record["hash"])
                except OSError as exc:
                    # A full disk must not leave a record without its signed head: undo it all.
                    self._roll_back(fh, end, checkpoints_end, seq, prev)
                    raise AuditWriteFailed(f"audit record not written: {exc.strerror or exc}") from exc
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return record

    def _roll_back(self, fh: Any, end: int, checkpoints_end: int, seq: int, digest: str) -> None:
        """Best effort (the disk may still be full): restore the log, checkpoints and head as they were."""
        with contextlib.suppress(OSError):
            fh.truncate(end)
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            if self.checkpoints_path.exists():
                os.truncate(self.checkpoints_path, checkpoints_end)
        with contextlib.suppress(OSError):
            self._sign_head(seq, digest, checkpoint=False) if seq else self.head_path.unlink(missing_ok=True)

    def _sign_head(self, seq: int, digest: str, checkpoint: bool = True) -> None:
        """Called under the file lock: sign the new head; every N records keep a checkpoint."""
        signer = self._get_signer()
        if signer is None:
            return
        head = signer.sign(seq, digest, "head")
        write_json_atomic(self.head_path, head)
        if self.anchor_path is not None:
            write_json_atomic(self.anchor_path, head)
        if checkpoint and seq % self.checkpoint_every == 0:
            with open(self.checkpoints_path, "ab") as cp:
                cp.write(canonical(signer.sign(seq, digest, "checkpoint")) + b"\n")
                cp.flush()
                os.fsync(cp.fileno())

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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as fh:
            fh.seek(0)
            for number, line in enumerate(fh, start=1):
                count = number
                try:
                    record = json.loads(line)
                except ValueError:
                    return VerifyResult(False, number - 1, number, "not valid JSON")
                if not isinstance(record, dict) or "hash" not in record:
                    return VerifyResult(False, number - 1, number, "not an audit record")
                if record.get("seq") != number:
                    return VerifyResult(False, number - 1, number, f"sequence {record.get('seq')} != {number}")
                if record.get("prev") != prev:
                    return VerifyResult(False, number - 1, number, "link to the previous record is broken")
                if record_hash(record) != record["hash"]:
                    return VerifyResult(False, number - 1, number, "content does not match its hash")
                if public_key is not None and not verify_signed(
                    public_key, {"seq": number, "hash": record["hash"], "sig": record.get("sig", "")}, "record"
                ):
                    return VerifyResult(False, number - 1, number, "record signature is missing or invalid")
                prev = record["hash"]
        return self._verify_signatures(count, prev)

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

    def _verify_signatures(self, count: int, last_hash: str) -> VerifyResult:
        """The chain is intact; now check it against the signed head, checkpoints and anchor."""
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
                json.loads(line) for line in self._read_optional(self.checkpoints_path).splitlines() if line.strip()
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
        hashes = self._hashes()
        seen: set[int] = set()
        for cp in checkpoints:
            seq = int(cp.get("seq", 0)) if isinstance(cp, dict) else 0
            if not verify_signed(public_key, cp, "checkpoint"):
                return VerifyResult(False, count, max(seq, 1), "a checkpoint's signature is invalid")
            seen.add(seq)
            if seq > count:
                return VerifyResult(False, count, count + 1, f"log truncated: checkpoint at record {seq}")
            if hashes[seq - 1] != cp["hash"]:
                return VerifyResult(False, count, seq, "record differs from its signed checkpoint")
        expected = set(range(self.checkpoint_every, head_seq + 1, self.checkpoint_every))
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
    def _read_optional(path: Path) -> str:
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def _hashes(self) -> list[str]:
        return [str(r["hash"]) for r in self.records()]

"""Append-only, hash-chained audit log (JSON lines under ``<data>/audit/``).

Every record carries ``prev``, the SHA-256 of the record before it, and ``hash``, the
SHA-256 of its own canonical JSON without the ``hash`` field; editing, inserting,
deleting or reordering any record breaks the chain at that record. Appends take an
exclusive file lock (the gateway and the CLI may write at once) and are fsync'd.

Callers must never put raw personal data in a record: questions arrive already redacted.
"""

from __future__ import annotations

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

__all__ = ["GENESIS", "AuditLog", "VerifyResult", "canonical", "record_hash"]

GENESIS = "0" * 64


def canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    first_bad: int | None = None  # 1-based line number of the first bad record
    reason: str = ""


class AuditLog:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "audit.log"
        self._lock = threading.Lock()

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
                last = json.loads(lines[-1])
                return int(last["seq"]), str(last["hash"])
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
                fh.seek(0, os.SEEK_END)
                fh.write(canonical(record) + b"\n")
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return record

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
        if not self.path.exists():
            return VerifyResult(True, 0)
        with open(self.path, "rb") as fh:
            for number, line in enumerate(fh, start=1):
                count = number
                try:
                    record = json.loads(line)
                except ValueError:
                    return VerifyResult(False, number - 1, number, "not valid JSON")
                if not isinstance(record, dict) or "hash" not in record:
                    return VerifyResult(False, number - 1, number, "not an audit record")
                if record.get("seq") != number:
                    return VerifyResult(
                        False, number - 1, number, f"sequence {record.get('seq')} != {number}"
                    )
                if record.get("prev") != prev:
                    return VerifyResult(False, number - 1, number, "link to the previous record is broken")
                if record_hash(record) != record["hash"]:
                    return VerifyResult(False, number - 1, number, "content does not match its hash")
                prev = record["hash"]
        return VerifyResult(True, count)

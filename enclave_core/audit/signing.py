"""Ed25519 signatures over the audit chain's head, so truncation and rewrites are detectable.

The hash chain alone shows edits, insertions, deletions and reordering, but not a log cut
short at the end, nor a chain rebuilt from scratch by someone who can write the file. After
every append the log's head (last seq and hash) is signed into ``head.json``; every
``checkpoint_every`` records a signed checkpoint is appended to ``checkpoints.log``. The
private key lives outside the audit directory (``<data>/secrets/``); its public half is
written next to the log for auditors.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["AuditSigner", "head_message", "load_public_key"]


Kind = str  # "record" | "head" | "checkpoint"


def head_message(seq: int, record_hash: str, kind: Kind = "head") -> bytes:
    """Each kind signs a different message, so a record's signature cannot pose as a head."""
    return f"enclave-audit-{kind}\x00{seq}\x00{record_hash}".encode()


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


class AuditSigner:
    def __init__(self, private_key_path: Path) -> None:
        self.private_key_path = private_key_path
        self._key = self._load_or_create(private_key_path)

    @staticmethod
    def _load_or_create(path: Path) -> Ed25519PrivateKey:
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path} is not an Ed25519 private key")
            return key
        from enclave_core.keys import atomic_write

        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        atomic_write(path, pem, mode=0o600)
        return key

    def public_pem(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def sign(self, seq: int, record_hash: str, kind: Kind = "head") -> dict[str, object]:
        signature = self._key.sign(head_message(seq, record_hash, kind))
        return {"seq": seq, "hash": record_hash, "sig": base64.b64encode(signature).decode()}


def verify_signed(public_key: Ed25519PublicKey, entry: object, kind: Kind = "head") -> bool:
    if not isinstance(entry, dict):
        return False
    try:
        signature = base64.b64decode(str(entry["sig"]), validate=True)
        public_key.verify(signature, head_message(int(str(entry["seq"])), str(entry["hash"]), kind))
        return True
    except (InvalidSignature, KeyError, ValueError, TypeError):
        return False


def write_json_atomic(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

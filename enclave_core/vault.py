"""The pseudonym vault: which real value each ``<TYPE_n>`` placeholder stands for, per collection.

One AES-256-GCM encrypted file per collection under ``<data>/vault/``; the collection name is
bound in as associated data, so a file copied onto another collection does not decrypt. The
key comes from ``ENCLAVE_VAULT_KEY`` (base64, 32 bytes) or a key file (0600), never from the
repository. Writes are atomic (temp file, fsync, rename) under an exclusive file lock, so the
gateway and the CLI can share a vault. Each entry remembers which documents use it, so
forgetting a document drops the values only it mentioned.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from enclave_core.errors import EnclaveError, PolicyError
from enclave_core.keys import atomic_write
from enclave_core.retrieval import validate_collection_name

__all__ = ["PLACEHOLDER", "Vault", "VaultEntry", "VaultError", "load_vault_key", "normalise"]

PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*?)_(\d+)>")
_DIGITS_ONLY = {"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "US_BANK_NUMBER", "US_PASSPORT"}


class VaultError(EnclaveError):
    """The vault cannot be opened (wrong key, damaged file)."""


def normalise(entity: str, value: str) -> str:
    """Two spellings of one value share a placeholder: case and spacing never matter, and
    punctuation does not for numbers ("555-0143" = "555 0143")."""
    if entity in _DIGITS_ONLY:
        return re.sub(r"[^0-9A-Za-z]", "", value).upper()
    return " ".join(value.split()).casefold()


def _decode_key(raw: bytes | str, problem: str) -> bytes:
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PolicyError(problem) from exc
    if len(key) != 32:
        raise PolicyError(problem)
    return key


def load_vault_key(env_value: str | None, key_file: Path, create: bool) -> bytes:
    if env_value:
        return _decode_key(env_value.strip(), "ENCLAVE_VAULT_KEY must be 32 bytes, base64-encoded")
    if key_file.exists():
        return _decode_key(key_file.read_bytes().strip(), f"{key_file}: a vault key must be 32 bytes, base64-encoded")
    if not create:
        raise PolicyError(f"no vault key: set ENCLAVE_VAULT_KEY or create {key_file}")
    key = AESGCM.generate_key(bit_length=256)
    atomic_write(key_file, base64.b64encode(key) + b"\n", mode=0o600)
    return key


@dataclass
class VaultEntry:
    entity: str
    number: int
    value: str
    docs: set[str] = field(default_factory=set)

    @property
    def placeholder(self) -> str:
        return f"<{self.entity}_{self.number}>"


class _CollectionVault:
    def __init__(self, entries: list[VaultEntry], counters: dict[str, int]) -> None:
        self.entries = {(e.entity, normalise(e.entity, e.value)): e for e in entries}
        self.by_placeholder = {e.placeholder: e for e in entries}
        self.counters = counters

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "entries": [
                    {"entity": e.entity, "number": e.number, "value": e.value, "docs": sorted(e.docs)}
                    for e in self.entries.values()
                ],
                "counters": self.counters,
            }
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> _CollectionVault:
        data = json.loads(raw)
        entries = [VaultEntry(e["entity"], e["number"], e["value"], set(e["docs"])) for e in data["entries"]]
        return cls(entries, dict(data["counters"]))


class Vault:
    def __init__(self, directory: Path, key: bytes) -> None:
        self.directory = directory
        self._aead = AESGCM(key)
        self._lock = threading.RLock()

    def _path(self, collection: str) -> Path:
        # The name becomes a file name: check it before any path is built ('../x' is an input error).
        return self.directory / f"{validate_collection_name(collection)}.vault"

    def _read(self, collection: str) -> _CollectionVault:
        path = self._path(collection)
        if not path.exists():
            return _CollectionVault([], {})
        blob = path.read_bytes()
        try:
            raw = self._aead.decrypt(blob[:12], blob[12:], collection.encode())
        except (InvalidTag, ValueError) as exc:
            raise VaultError(f"cannot decrypt the vault of '{collection}': wrong key or damaged file") from exc
        return _CollectionVault.from_json(raw)

    def _write(self, collection: str, vault: _CollectionVault) -> None:
        nonce = secrets.token_bytes(12)
        blob = nonce + self._aead.encrypt(nonce, vault.to_json(), collection.encode())
        atomic_write(self._path(collection), blob, mode=0o600)

    @contextmanager
    def _locked(self, collection: str) -> Iterator[None]:
        validate_collection_name(collection)  # before the lock file's path is built, or anything created
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.directory / f".{collection}.lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def assign(self, collection: str, items: list[tuple[str, str, str]]) -> list[str]:
        """Placeholders for (entity, value, doc_id) triples, creating entries as needed (one write)."""
        with self._locked(collection):
            vault = self._read(collection)
            out: list[str] = []
            changed = False
            for entity, value, doc_id in items:
                key = (entity, normalise(entity, value))
                entry = vault.entries.get(key)
                if entry is None:
                    number = vault.counters.get(entity, 0) + 1
                    vault.counters[entity] = number
                    entry = VaultEntry(entity, number, value)
                    vault.entries[key] = entry
                    vault.by_placeholder[entry.placeholder] = entry
                    changed = True
                if doc_id and doc_id not in entry.docs:
                    entry.docs.add(doc_id)
                    changed = True
                out.append(entry.placeholder)
            if changed:
                self._write(collection, vault)
            return out

    def lookup(self, collection: str, entity: str, value: str) -> str | None:
        """The placeholder of a value already in the vault (never creates one)."""
        entry = self.lookup_entry(collection, entity, value)
        return entry.placeholder if entry else None

    def lookup_entry(self, collection: str, entity: str, value: str) -> VaultEntry | None:
        """The vault entry of a value (with the documents that mention it), or None."""
        with self._lock:
            return self._read(collection).entries.get((entity, normalise(entity, value)))

    def reveal(self, collection: str, text: str, allowed: set[str] | None = None) -> tuple[str, list[str]]:
        """Replace known placeholders by their values; returns the text and the placeholders revealed.

        ``allowed``: only these placeholders may be replaced (the ones in passages the caller may
        read); any other stays a placeholder, whatever the vault holds."""
        with self._lock:
            vault = self._read(collection)
        revealed: list[str] = []

        def sub(match: re.Match[str]) -> str:
            entry = vault.by_placeholder.get(match.group(0))
            if entry is None or (allowed is not None and match.group(0) not in allowed):
                return match.group(0)
            revealed.append(match.group(0))
            return entry.value

        return PLACEHOLDER.sub(sub, text), revealed

    def forget_document(self, collection: str, doc_id: str) -> list[VaultEntry]:
        """Drop the document from every entry; entries no other document uses are deleted and returned."""
        with self._locked(collection):
            vault = self._read(collection)
            removed = []
            changed = False
            for key, entry in list(vault.entries.items()):
                if doc_id in entry.docs:
                    entry.docs.discard(doc_id)
                    changed = True
                    if not entry.docs:
                        removed.append(entry)
                        del vault.entries[key]
            if changed:
                self._write(collection, _CollectionVault(list(vault.entries.values()), vault.counters))
            return removed

    def forget_value(self, collection: str, value: str) -> list[VaultEntry]:
        """Delete every entry holding this value (under any entity type); returns them."""
        with self._locked(collection):
            vault = self._read(collection)
            removed = [e for k, e in vault.entries.items() if normalise(e.entity, value) == k[1]]
            if removed:
                keep = [e for e in vault.entries.values() if e not in removed]
                self._write(collection, _CollectionVault(keep, vault.counters))
            return removed

    def collections(self) -> list[str]:
        if not self.directory.exists():
            return []
        return sorted(p.stem for p in self.directory.glob("*.vault"))

"""API keys: only SHA-256 hashes are stored; the key itself is shown once, at creation.

Keys are 256-bit random tokens, so a fast hash is enough (no dictionary to attack). The
file is rewritten atomically (temp file, fsync, rename) and readable by its owner only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from enclave_core.errors import InputError, NotFoundError
from enclave_core.identity import Principal

__all__ = ["KEY_PREFIX", "ApiKey", "KeyStore", "atomic_write"]

KEY_PREFIX = "enc_"


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` by ``data`` (temp file, fsync, rename), with exactly ``mode`` whatever the
    umask; a missing parent directory is created owner-only (0700)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # os.open applied the umask, and a leftover temp file keeps its old mode
        view = memoryview(data)
        while view:  # os.write may write less than asked (a nearly full disk)
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class ApiKey:
    key_id: str
    user: str
    groups: list[str]
    roles: list[str]
    key_sha256: str
    created_at: str
    revoked_at: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def principal(self) -> Principal:
        return Principal(self.user, frozenset(self.groups), frozenset(self.roles), auth="api-key")


class KeyStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._cache: tuple[float, dict[str, ApiKey]] | None = None

    def _load(self) -> dict[str, ApiKey]:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return {}
        if self._cache and self._cache[0] == mtime:
            return self._cache[1]
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        keys = {k["key_id"]: ApiKey(**k) for k in raw.get("keys", [])}
        self._cache = (mtime, keys)
        return keys

    def _save(self, keys: dict[str, ApiKey]) -> None:
        body = json.dumps({"keys": [asdict(k) for k in keys.values()]}, indent=2).encode()
        atomic_write(self.path, body)
        self._cache = None

    def create(self, user: str, groups: list[str], roles: list[str]) -> tuple[ApiKey, str]:
        if not user or any(c in user for c in "\x00\n"):
            raise InputError("a key needs a user name")
        for g in groups:
            if not g or any(c in g for c in "\x00\n,"):
                raise InputError(f"invalid group name {g!r}")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        with self._lock:
            keys = dict(self._load())
            record = ApiKey(
                key_id=secrets.token_hex(6),
                user=user,
                groups=sorted(set(groups)),
                roles=sorted(set(roles)),
                key_sha256=_hash(secret),
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            keys[record.key_id] = record
            self._save(keys)
        return record, secret

    def list(self) -> list[ApiKey]:
        return sorted(self._load().values(), key=lambda k: k.created_at)

    def revoke(self, key_id: str) -> ApiKey:
        with self._lock:
            keys = dict(self._load())
            if key_id not in keys:
                raise NotFoundError(f"no key with id '{key_id}'")
            keys[key_id].revoked_at = datetime.now(UTC).isoformat(timespec="seconds")
            self._save(keys)
            return keys[key_id]

    def authenticate(self, presented: str) -> ApiKey | None:
        digest = _hash(presented)
        for key in self._load().values():
            if hmac.compare_digest(key.key_sha256, digest) and key.revoked_at is None:
                return key
        return None

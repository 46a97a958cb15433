"""Chat UI conversation history: per user, encrypted at rest, deleted after the retention period.

What is kept is only what may be kept: the question *after redaction*, the answer *after
the output guard* and the citations (chunk text that was redacted at ingest). Each
conversation is one file ``<data_dir>/conversations/<user-id>/<conversation-id>.bin``:
AES-256-GCM with a random key in ``<data_dir>/secrets/conversations.key`` (0600), the
owner and the conversation id bound in as associated data (a file moved to another user's
folder does not decrypt). ``<user-id>`` is an HMAC of the user name under that key, so no
user name appears in a path either.

Retention (``policies/retention.yaml``, ``retention.conversations_days``): a conversation
whose last message is older than that is deleted when the store opens (gateway start-up or
first use) and whenever a user's history is listed or read; 0 keeps no history at all.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from enclave_core.errors import InputError, NotFoundError
from enclave_core.keys import atomic_write
from enclave_core.policy import load_policy_file, policies_dir
from enclave_core.settings import Settings

__all__ = [
    "MAX_TURNS",
    "ConversationStore",
    "load_retention_days",
    "valid_conversation_id",
]

MAX_TURNS = 200
_MAGIC = b"ENCV1"
_ID = re.compile(r"^[A-Za-z0-9_-]{8,40}$")
_DAY_S = 86400


def valid_conversation_id(value: str) -> str:
    if not _ID.match(value):
        raise NotFoundError("no such conversation")
    return value


def load_retention_days(policies: Path) -> int:
    """``retention.conversations_days`` from ``<policies>/retention.yaml`` (the packaged file when a
    custom policies folder has none)."""
    path = policies / "retention.yaml"
    if not path.exists():
        path = policies_dir() / "retention.yaml"
    data = load_policy_file(path, "retention")
    return int(data["retention"]["conversations_days"])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ConversationStore:
    def __init__(self, root: Path, key_path: Path, retention_days: int) -> None:
        self.root = root
        self.key_path = key_path
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self._key: bytes | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ConversationStore:
        return cls(
            settings.data_dir / "conversations",
            settings.secrets_dir / "conversations.key",
            load_retention_days(settings.policies_dir),
        )

    @property
    def enabled(self) -> bool:
        return self.retention_days > 0

    # --- keys and paths ---------------------------------------------------------------------

    def _get_key(self) -> bytes:
        if self._key is None:
            try:
                key = self.key_path.read_bytes()
            except FileNotFoundError:
                key = secrets.token_bytes(32)
                atomic_write(self.key_path, key)
            if len(key) != 32:
                raise InputError(f"{self.key_path}: expected a 32-byte key")
            self._key = key
        return self._key

    def _user_dir(self, user: str) -> Path:
        digest = hmac.new(self._get_key(), b"user:" + user.encode(), hashlib.sha256).hexdigest()
        return self.root / digest[:32]

    def _path(self, user: str, conversation_id: str) -> Path:
        return self._user_dir(user) / f"{valid_conversation_id(conversation_id)}.bin"

    # --- encrypted files --------------------------------------------------------------------

    def _aad(self, path: Path) -> bytes:
        return f"{path.parent.name}/{path.stem}".encode()

    def _write(self, path: Path, conversation: dict[str, Any]) -> None:
        nonce = secrets.token_bytes(12)
        plain = json.dumps(conversation, ensure_ascii=False).encode()
        sealed = AESGCM(self._get_key()).encrypt(nonce, plain, self._aad(path))
        atomic_write(path, _MAGIC + nonce + sealed)

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            blob = path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError("no such conversation") from exc
        if not blob.startswith(_MAGIC):
            raise NotFoundError("no such conversation")
        nonce, sealed = blob[len(_MAGIC) : len(_MAGIC) + 12], blob[len(_MAGIC) + 12 :]
        try:
            plain = AESGCM(self._get_key()).decrypt(nonce, sealed, self._aad(path))
        except InvalidTag as exc:
            raise NotFoundError("no such conversation") from exc
        data: dict[str, Any] = json.loads(plain)
        return data

    def _expired(self, path: Path, now: float) -> bool:
        try:
            return path.stat().st_mtime < now - self.retention_days * _DAY_S
        except FileNotFoundError:
            return False

    # --- retention --------------------------------------------------------------------------

    def purge_expired(self, user: str | None = None) -> int:
        """Delete expired conversations (of one user, or of everyone); returns how many."""
        if not self.root.exists():
            return 0
        now = time.time()
        folders = [self._user_dir(user)] if user is not None else [p for p in self.root.iterdir() if p.is_dir()]
        removed = 0
        with self._lock:
            for folder in folders:
                if not folder.is_dir():
                    continue
                for path in folder.glob("*.bin"):
                    if not self.enabled or self._expired(path, now):
                        path.unlink(missing_ok=True)
                        removed += 1
                if not any(folder.iterdir()):
                    folder.rmdir()
        return removed

    # --- the API the routes use -------------------------------------------------------------

    def list(self, user: str) -> list[dict[str, Any]]:
        self.purge_expired(user)
        folder = self._user_dir(user)
        out = []
        for path in folder.glob("*.bin") if folder.is_dir() else []:
            try:
                c = self._read(path)
            except NotFoundError:
                continue
            out.append(
                {
                    "id": c["id"],
                    "title": c["title"],
                    "collection": c["collection"],
                    "created_at": c["created_at"],
                    "updated_at": c["updated_at"],
                    "turns": len(c["turns"]),
                }
            )
        return sorted(out, key=lambda c: c["updated_at"], reverse=True)

    def get(self, user: str, conversation_id: str) -> dict[str, Any]:
        path = self._path(user, conversation_id)
        if not self.enabled or self._expired(path, time.time()):
            path.unlink(missing_ok=True)
            raise NotFoundError("no such conversation")
        return self._read(path)

    def new(self, collection: str) -> dict[str, Any]:
        """A conversation that is written with its first turn (never an empty file)."""
        now = _now()
        return {
            "id": secrets.token_urlsafe(12),
            "collection": collection,
            "title": "",
            "created_at": now,
            "updated_at": now,
            "turns": [],
        }

    def append_turn(self, user: str, conversation: dict[str, Any], turn: dict[str, Any]) -> dict[str, Any]:
        """Add a turn and save; the title is the first (redacted) question."""
        if not self.enabled:
            return conversation
        with self._lock:
            path = self._path(user, conversation["id"])
            if path.exists():
                conversation = self._read(path)
            turn = {**turn, "created_at": _now()}
            conversation["turns"] = [*conversation["turns"], turn][-MAX_TURNS:]
            conversation["updated_at"] = turn["created_at"]
            if not conversation["title"]:
                title = " ".join(str(turn.get("question", "")).split())
                conversation["title"] = title[:80] + ("…" if len(title) > 80 else "")
            self._write(path, conversation)
        return conversation

    def delete(self, user: str, conversation_id: str) -> None:
        path = self._path(user, conversation_id)
        with self._lock:
            if not path.exists():
                raise NotFoundError("no such conversation")
            path.unlink()

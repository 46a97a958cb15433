"""IMAP connector: each configured folder's messages, with that folder's readers.

A message is keyed by folder, UIDVALIDITY and UID. IMAP messages never change, so a key's
content is fixed: a message moved to another folder is a delete plus an add (reported as a
move), and a folder whose UIDVALIDITY changed is re-read whole. Messages are read with
BODY.PEEK so the sync never marks mail as read. Attachments become child documents
(see ingest.attachments) with the message's readers.
"""

from __future__ import annotations

import contextlib
import functools
import imaplib
import re
from collections.abc import Callable, Mapping, Sequence

from .base import Item, Listing

__all__ = ["ImapConnector"]

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapConnector:
    def __init__(self, name: str, folders: Mapping[str, Sequence[str]], connect: Callable[[], imaplib.IMAP4]) -> None:
        """connect() returns a logged-in connection (IMAP4_SSL + login in production)."""
        self.name = name
        self.folders = folders
        self._connect = connect
        self._conn: imaplib.IMAP4 | None = None
        self._selected: str | None = None

    def _connection(self) -> imaplib.IMAP4:
        if self._conn is None:
            self._conn = self._connect()
            self._selected = None
        return self._conn

    def _select(self, folder: str) -> int:
        conn = self._connection()
        status, _ = conn.select(_quote(folder), readonly=True)
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot select {folder}")
        self._selected = folder
        _, data = conn.status(_quote(folder), "(UIDVALIDITY)")
        match = _UIDVALIDITY.search(data[0] if data and isinstance(data[0], bytes) else b"")
        return int(match.group(1)) if match else 0

    def _fetch(self, folder: str, uid: str) -> bytes:
        if self._selected != folder:
            self._select(folder)
        status, data = self._connection().uid("FETCH", uid, "(BODY.PEEK[])")
        for part in data:
            if status == "OK" and isinstance(part, tuple) and isinstance(part[1], bytes):
                return part[1]
        raise OSError(f"message {uid} in {folder} could not be fetched")

    def list_items(self) -> Listing:
        listing = Listing()
        for folder, readers in self.folders.items():
            try:
                validity = self._select(folder)
                status, data = self._connection().uid("SEARCH", "ALL")
                if status != "OK":
                    raise imaplib.IMAP4.error("search failed")
            except (imaplib.IMAP4.error, OSError) as exc:
                listing.complete = False
                listing.errors.append(f"{self.name}: folder {folder}: {exc.__class__.__name__}")
                self.close()
                continue
            for uid in (data[0] or b"").split():
                text = uid.decode()
                listing.items.append(
                    Item(
                        key=f"{folder}\x00{validity}\x00{text}",
                        source=f"{folder}/{text}.eml",
                        version="1",  # an IMAP message's content never changes under its UID
                        readers=tuple(readers),
                        fetch=functools.partial(self._fetch, folder, text),
                    )
                )
        return listing

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                self._conn.logout()
            self._conn = None

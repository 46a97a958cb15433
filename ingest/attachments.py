"""Mail attachments as child documents: ingested beside their message, with its readers.

A message file ("inbox/note.eml") is followed by one source per attachment
("inbox/note.eml/report.pdf"), held in memory only. The children go through the same
ingest call as the message, so they get the same readers (ACL) and each fails alone.
Attachments of unsupported types are named in the message's header block but not ingested.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from ingest.loaders import SUPPORTED_EXTENSIONS
from ingest.loaders._common import extension_of
from ingest.loaders.mail import MAIL_EXTENSIONS, mail_attachments

__all__ = ["MAX_NESTING", "with_attachments"]

MAX_NESTING = 3  # a forwarded message inside a forwarded message...


class _Source(Protocol):
    @property
    def source(self) -> str: ...

    def read(self) -> bytes: ...


S = TypeVar("S", bound=_Source)


def with_attachments(files: Sequence[S], make: Callable[[str, bytes], S], depth: int = 0) -> list[S]:
    """The files, each message followed by its attachments (recursively, to MAX_NESTING);
    make(name, data) builds the in-memory source of one attachment."""
    expanded: list[S] = []
    for file in files:
        expanded.append(file)
        if depth >= MAX_NESTING or extension_of(file.source) not in MAIL_EXTENSIONS:
            continue
        try:
            data = file.read()
        except OSError:
            continue  # the message itself reports the read error
        children = [
            make(a.name, a.data)
            for a in mail_attachments(data, file.source)
            if extension_of(a.name) in SUPPORTED_EXTENSIONS
        ]
        expanded.extend(with_attachments(children, make, depth + 1))
    return expanded

"""The locator of a chunk (enclave_core.locators): which page, slide, sheet, chapter or message.

Loaders already put the position into each block: the page number of a PDF page, a slide or a
sheet (1-based), an e-book chapter's place in the reading order, and headings such as
"Sheet: Budget" or a message's subject. The media type says which of these the page number
is. Called on the redacted document, so a sheet name or subject is stored as pseudonymized
as the chunk text.
"""

from __future__ import annotations

from typing import Any

from enclave_core.documents import Chunk, LoadedDocument
from enclave_core.locators import normalized

__all__ = ["chunk_locator"]

_PAGE_KIND = {
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "slide",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "sheet",
    "application/vnd.ms-excel": "sheet",
    "text/csv": "sheet",
    "application/epub+zip": "chapter",
}
_MAIL = frozenset({"message/rfc822", "application/vnd.ms-outlook"})
_SHEET_PREFIX = "Sheet: "
_DATE_PREFIX = "Date: "


def _mail_date(doc: LoadedDocument) -> str | None:
    """The Date header as stored: the header block is the message's first block."""
    if not doc.blocks:
        return None
    for line in doc.blocks[0].text.splitlines():
        if line.startswith(_DATE_PREFIX):
            return line[len(_DATE_PREFIX) :].strip() or None
    return None


def chunk_locator(doc: LoadedDocument, chunk: Chunk) -> dict[str, Any] | None:
    """The chunk's locator, or None for a document without pages (Word, HTML, text)."""
    if doc.media_type in _MAIL:
        return normalized({"kind": "message", "subject": chunk.heading, "date": _mail_date(doc)})
    kind = _PAGE_KIND.get(doc.media_type, "page")
    locator: dict[str, Any] = {"kind": kind, "number": chunk.page}
    if kind == "sheet" and chunk.heading and chunk.heading.startswith(_SHEET_PREFIX):
        locator["name"] = chunk.heading[len(_SHEET_PREFIX) :]
    if chunk.page is None and "name" not in locator:
        return None
    return normalized(locator)

"""PDF loader: text per page with pypdf, so every block knows its page number."""

from __future__ import annotations

import io
import re

from pypdf import PasswordType, PdfReader

from enclave_core.documents import Block, LoadedDocument
from enclave_core.errors import CorruptDocument, InputError

from ._common import add_block, short_reason, short_title, source_stem

__all__ = ["load_pdf"]

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def load_pdf(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """Load a PDF from memory; any pypdf failure becomes CorruptDocument.

    Encrypted files are tried with the empty user password only (many "protected"
    PDFs merely restrict printing); real passwords are out of scope.
    """
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise CorruptDocument(f"{source}: not a readable PDF (encrypted with a password)")
        blocks: list[Block] = []
        for number, page in enumerate(reader.pages, start=1):
            page_text = (page.extract_text() or "").replace("\r\n", "\n").replace("\r", "\n")
            for paragraph in _BLANK_LINE.split(page_text):
                add_block(blocks, paragraph, page=number)
        metadata = reader.metadata
        title = short_title(str(metadata.title)) if metadata is not None and metadata.title else None
        page_count = len(reader.pages)
    except InputError:
        raise
    except Exception as exc:  # pypdf raises many types (and sometimes plain ones) on bad input
        raise CorruptDocument(f"{source}: not a readable PDF ({short_reason(exc)})") from exc
    return LoadedDocument(
        source=source,
        title=title or source_stem(source),
        blocks=blocks,
        media_type="application/pdf",
        metadata={"pages": str(page_count)},
    )

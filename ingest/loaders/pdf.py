"""PDF loader: text per page with pypdf, so every block knows its page number.

A page without a text layer (a scan) is rendered in memory with pypdfium2 and read with OCR.
"""

from __future__ import annotations

import io
import re

from pypdf import PasswordType, PdfReader

from enclave_core.documents import Block, LoadedDocument
from enclave_core.errors import CorruptDocument, InputError

from ._common import add_block, short_reason, short_title, source_stem
from .ocr import ocr_image, tesseract_available, text_blocks

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
        scanned: list[int] = []
        for number, page in enumerate(reader.pages, start=1):
            page_text = (page.extract_text() or "").replace("\r\n", "\n").replace("\r", "\n")
            if not page_text.strip():
                scanned.append(number)
            for paragraph in _BLANK_LINE.split(page_text):
                add_block(blocks, paragraph, page=number)
        if scanned and (tesseract_available() or not blocks):  # a scan-only PDF says OCR is missing
            blocks = _with_ocr(blocks, _ocr_pages(data, scanned, source))
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
        metadata={"pages": str(page_count), **({"ocr_pages": str(len(scanned))} if scanned else {})},
    )


OCR_SCALE = 300 / 72  # render at 300 dpi, the resolution Tesseract is tuned for


def _ocr_pages(data: bytes, numbers: list[int], source: str) -> list[Block]:
    """Render the given 1-based pages in memory and OCR them (pypdfium2 writes no files)."""
    import pypdfium2

    blocks: list[Block] = []
    document = pypdfium2.PdfDocument(data)
    try:
        for number in numbers:
            page = document[number - 1]
            try:
                image = page.render(scale=OCR_SCALE, grayscale=True).to_pil()
            finally:
                page.close()
            text_blocks(blocks, ocr_image(image, f"{source}, page {number}"), number)
    finally:
        document.close()
    return blocks


def _with_ocr(blocks: list[Block], ocr_blocks: list[Block]) -> list[Block]:
    """Merge OCR blocks into the text-layer blocks in page order."""
    return sorted([*blocks, *ocr_blocks], key=lambda block: block.page or 0)

"""Document loaders: bytes in, a structured LoadedDocument out.

Loaders work from memory only and never write temporary files, because the
documents hold personal data and no plaintext may land on disk outside the store.
Every failure caused by the input surfaces as an enclave_core.errors.InputError
subclass, so callers can answer 4xx / exit 2 without knowing any parser library.
"""

from __future__ import annotations

from collections.abc import Callable

from enclave_core.documents import LoadedDocument
from enclave_core.errors import (
    CorruptDocument,
    DocumentTooLarge,
    EmptyDocument,
    InputError,
    UnsupportedFileType,
)

from ._common import extension_of, short_reason
from .ebook import load_epub
from .html_page import load_html
from .mail import load_eml, load_msg
from .markdown import load_markdown
from .ocr import load_image
from .opendocument import load_odt
from .pdf import load_pdf
from .plaintext import load_text
from .rtf import load_rtf
from .slides import load_pptx
from .spreadsheet import load_csv, load_xls, load_xlsx
from .word import load_docx

__all__ = ["DEFAULT_MAX_BYTES", "SUPPORTED_EXTENSIONS", "load_document"]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024

_Loader = Callable[[bytes, str, int], LoadedDocument]
_LOADERS: dict[str, _Loader] = {
    ".txt": load_text,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".pptx": load_pptx,
    ".xlsx": load_xlsx,
    ".xls": load_xls,
    ".csv": load_csv,
    ".eml": load_eml,
    ".msg": load_msg,
    ".odt": load_odt,
    ".rtf": load_rtf,
    ".epub": load_epub,
    ".png": load_image,
    ".jpg": load_image,
    ".jpeg": load_image,
    ".tif": load_image,
    ".tiff": load_image,
}
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(_LOADERS)


def load_document(data: bytes, source: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadedDocument:
    """Parse a document held in memory; the loader is chosen by the extension of source.

    Raises UnsupportedFileType, DocumentTooLarge, EmptyDocument or CorruptDocument;
    unexpected parser exceptions are wrapped in CorruptDocument so that a hostile
    file can never turn into a 500.
    """
    extension = extension_of(source)
    loader = _LOADERS.get(extension)
    if loader is None:
        shown = f"'{extension}'" if extension else "(no extension)"
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        raise UnsupportedFileType(f"{source}: unsupported file type {shown}; supported: {supported}")
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"{source}: {len(data)} bytes exceeds the limit of {max_bytes} bytes")
    if not data:
        raise EmptyDocument(f"{source}: no text found")
    try:
        document = loader(data, source, max_bytes)
    except InputError:
        raise
    except Exception as exc:  # last line of defence: a parser bug must not escape as a 500
        raise CorruptDocument(f"{source}: could not be parsed ({short_reason(exc)})") from exc
    if not document.blocks:
        raise EmptyDocument(f"{source}: no text found")
    return document

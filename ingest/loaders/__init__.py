"""Document loaders: bytes in, a structured LoadedDocument out.

Loaders work from memory only and never write temporary files, because the
documents hold personal data and no plaintext may land on disk outside the store.
Every failure caused by the input surfaces as an enclave_core.errors.InputError
subclass, so callers can answer 4xx / exit 2 without knowing any parser library.
"""

from __future__ import annotations

import importlib
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

__all__ = ["DEFAULT_MAX_BYTES", "SUPPORTED_EXTENSIONS", "load_document"]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024

_Loader = Callable[[bytes, str, int], LoadedDocument]
# Extension -> (module in this package, function). Imported on first use: the parser libraries
# (PDF, Office, mail, OCR) cost seconds to import, which commands that read no file never pay.
_LOADERS: dict[str, tuple[str, str]] = {
    ".txt": ("plaintext", "load_text"),
    ".md": ("markdown", "load_markdown"),
    ".markdown": ("markdown", "load_markdown"),
    ".html": ("html_page", "load_html"),
    ".htm": ("html_page", "load_html"),
    ".pdf": ("pdf", "load_pdf"),
    ".docx": ("word", "load_docx"),
    ".pptx": ("slides", "load_pptx"),
    ".xlsx": ("spreadsheet", "load_xlsx"),
    ".xls": ("spreadsheet", "load_xls"),
    ".csv": ("spreadsheet", "load_csv"),
    ".eml": ("mail", "load_eml"),
    ".msg": ("mail", "load_msg"),
    ".odt": ("opendocument", "load_odt"),
    ".rtf": ("rtf", "load_rtf"),
    ".epub": ("ebook", "load_epub"),
    ".png": ("ocr", "load_image"),
    ".jpg": ("ocr", "load_image"),
    ".jpeg": ("ocr", "load_image"),
    ".tif": ("ocr", "load_image"),
    ".tiff": ("ocr", "load_image"),
}


def _loader(extension: str) -> _Loader | None:
    entry = _LOADERS.get(extension)
    if entry is None:
        return None
    module = importlib.import_module(f"{__name__}.{entry[0]}")
    loader: _Loader = getattr(module, entry[1])
    return loader


SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(_LOADERS)


def load_document(data: bytes, source: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadedDocument:
    """Parse a document held in memory; the loader is chosen by the extension of source.

    Raises UnsupportedFileType, DocumentTooLarge, EmptyDocument or CorruptDocument;
    unexpected parser exceptions are wrapped in CorruptDocument so that a hostile
    file can never turn into a 500.
    """
    extension = extension_of(source)
    loader = _loader(extension)
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

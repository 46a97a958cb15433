"""Checks shared by the zip-based office loaders (pptx, xlsx, odt, epub)."""

from __future__ import annotations

import io
import zipfile

from enclave_core.errors import CorruptDocument

from .word import check_zip_archive

__all__ = ["OLE_MAGIC", "check_office_zip"]

# Office encrypts a protected .docx/.xlsx/.pptx by wrapping it in an OLE compound file.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_office_zip(data: bytes, source: str, max_bytes: int, kind: str) -> None:
    """Name the two common failures clearly (password protection, not a zip), then bomb-check."""
    if data.startswith(OLE_MAGIC):
        raise CorruptDocument(f"{source}: not a readable {kind} (encrypted with a password)")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise CorruptDocument(f"{source}: not a readable {kind} (not a zip archive)")
    check_zip_archive(data, source, max_bytes)

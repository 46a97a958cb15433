"""EPUB loader: ebooklib reads the archive from memory; each spine chapter goes through the HTML
loader (headings kept) and its position in the reading order is the block's page."""

from __future__ import annotations

import io
import warnings
import zipfile

from ebooklib import ITEM_DOCUMENT, epub

from enclave_core.documents import Block, LoadedDocument
from enclave_core.errors import CorruptDocument, InputError

from ._common import short_reason, short_title, source_stem
from ._office import check_office_zip
from .html_page import load_html

__all__ = ["load_epub"]


def load_epub(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    check_office_zip(data, source, max_bytes, ".epub")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if "META-INF/encryption.xml" in archive.namelist():
            raise CorruptDocument(f"{source}: not a readable .epub (encrypted or DRM-protected)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ebooklib warns about future defaults on every read
            book = epub.read_epub(io.BytesIO(data), options={"ignore_ncx": True})
        blocks: list[Block] = []
        chapter = 0
        for item_id, _linear in book.spine:
            item = book.get_item_with_id(item_id)
            if item is None or item.get_type() != ITEM_DOCUMENT:
                continue
            try:
                page = load_html(item.get_content(), f"{source}#{item.get_name()}", max_bytes)
            except InputError:
                continue  # an empty chapter (cover, title page) is not an error of the book
            chapter += 1
            blocks.extend(Block(text=b.text, page=chapter, heading=b.heading, kind=b.kind) for b in page.blocks)
        titles = book.get_metadata("DC", "title")
        title = short_title(str(titles[0][0])) if titles else None
    except InputError:
        raise
    except Exception as exc:  # ebooklib raises EpubException, KeyError, XML errors
        raise CorruptDocument(f"{source}: not a readable .epub ({short_reason(exc)})") from exc
    return LoadedDocument(
        source=source, title=title or source_stem(source), blocks=blocks, media_type="application/epub+zip"
    )

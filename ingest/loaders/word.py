"""DOCX loader: python-docx, after a zip-bomb check of the archive directory."""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from enclave_core.documents import Block, LoadedDocument
from enclave_core.errors import CorruptDocument, InputError

from ._common import HeadingPath, add_block, short_reason, short_title, source_stem

__all__ = ["MAX_COMPRESSION_RATIO", "MAX_ZIP_ENTRIES", "check_zip_archive", "load_docx"]

MAX_COMPRESSION_RATIO = 200
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000
# Word tables have at most 63 columns. python-docx repeats a merged cell once per
# spanned column, so an absurd w:gridSpan would be a time and memory bomb.
MAX_GRID_SPAN = 512
# Below this size an entry cannot hurt, and tiny repetitive XML parts can reach high
# ratios legitimately; the ratio test only applies to entries at least this large.
RATIO_CHECK_MIN_BYTES = 1024 * 1024
_NESTED_TABLE_DEPTH = 3
_HEADING_STYLE = re.compile(r"heading\s*([1-9])", re.IGNORECASE)


def check_zip_archive(data: bytes, source: str, max_bytes: int) -> None:
    """Reject archives whose declared sizes betray a decompression bomb.

    Declared sizes are trustworthy enough here: zipfile never inflates an entry past
    its declared size, so python-docx cannot be made to read more than we checked.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except Exception as exc:
        raise CorruptDocument(f"{source}: not a valid .docx (not a zip archive)") from exc
    if len(entries) > MAX_ZIP_ENTRIES:
        raise CorruptDocument(f"{source}: rejected, the archive has {len(entries)} entries")
    limit = min(20 * max_bytes, MAX_UNCOMPRESSED_BYTES)
    total = sum(entry.file_size for entry in entries)
    if total > limit:
        raise CorruptDocument(f"{source}: rejected, {total} bytes uncompressed exceeds {limit} (zip bomb?)")
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size >= RATIO_CHECK_MIN_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise CorruptDocument(f"{source}: rejected, compression ratio {ratio:.0f}:1 (zip bomb?)")


def _check_grid_spans(body: BaseOxmlElement, source: str) -> None:
    for value in body.xpath(".//w:gridSpan/@w:val"):
        if int(value) > MAX_GRID_SPAN:
            raise CorruptDocument(f"{source}: rejected, a table cell spans {int(value)} columns")


def _heading_level(style_name: str) -> int | None:
    """0 for Title, N for "Heading N", None for body text."""
    name = style_name.strip()
    if name.lower() == "title":
        return 0
    match = _HEADING_STYLE.fullmatch(name)
    return int(match.group(1)) if match else None


def _table_rows(table: Table, depth: int = 0) -> list[str]:
    """One " | "-joined line per row; nested tables are flattened into their cell."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        previous: _Cell | None = None
        for cell in row.cells:
            if cell is previous:  # a horizontally merged cell is repeated once per grid column
                continue
            previous = cell
            parts = [paragraph.text for paragraph in cell.paragraphs]
            if depth < _NESTED_TABLE_DEPTH:
                for nested in cell.tables:
                    parts.extend(_table_rows(nested, depth + 1))
            cells.append(" ".join(" ".join(parts).split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def load_docx(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """Load a Word document: body paragraphs and tables in reading order."""
    check_zip_archive(data, source, max_bytes)
    try:
        document = docx.Document(io.BytesIO(data))
        _check_grid_spans(document.element, source)
        blocks: list[Block] = []
        headings = HeadingPath()
        first_heading: str | None = None
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                text = "\n".join(_table_rows(item))
                add_block(blocks, text, kind="table", heading=headings.current)
                continue
            style = _style_name(item)
            level = _heading_level(style)
            if level is not None:
                headings.enter(level, item.text)
                if level <= 1 and first_heading is None:
                    first_heading = short_title(item.text)
                continue
            kind = "list" if style.lower().startswith("list") else "paragraph"
            add_block(blocks, item.text, kind=kind, heading=headings.current)
        title = short_title(document.core_properties.title) or first_heading
    except InputError:
        raise
    except Exception as exc:  # python-docx/lxml raise KeyError, ValueError, XMLSyntaxError...
        raise CorruptDocument(f"{source}: not a readable .docx ({short_reason(exc)})") from exc
    return LoadedDocument(
        source=source,
        title=title or source_stem(source),
        blocks=blocks,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )


def _style_name(paragraph: Paragraph) -> str:
    style = paragraph.style
    return (style.name or "") if style is not None else ""

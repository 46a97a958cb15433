"""OpenDocument text (.odt) loader: odfpy, headings by outline level, paragraphs, lists, tables."""

from __future__ import annotations

import io
import zipfile

from odf import teletype
from odf.element import Element
from odf.namespaces import TABLENS, TEXTNS
from odf.opendocument import load

from enclave_core.documents import Block, LoadedDocument
from enclave_core.errors import CorruptDocument, InputError

from ._common import HeadingPath, add_block, clean_inline, short_reason, short_title, source_stem
from ._office import check_office_zip

__all__ = ["load_odt"]

_MAX_DEPTH = 16


def _check_not_encrypted(data: bytes, source: str) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            manifest = archive.read("META-INF/manifest.xml")
        except KeyError:
            return
    if b"encryption-data" in manifest:
        raise CorruptDocument(f"{source}: not a readable .odt (encrypted with a password)")


def _table_text(table: Element) -> str:
    rows = []
    for row in table.getElementsByType(_element("table-row", TABLENS)):
        cells = [clean_inline(teletype.extractText(cell)) for cell in row.childNodes if cell.qname[1] == "table-cell"]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _element(name: str, namespace: str) -> type:
    from odf import table, text

    module = table if namespace == TABLENS else text
    return getattr(module, "".join(part.capitalize() for part in name.split("-")))


def _walk(node: Element, blocks: list[Block], headings: HeadingPath, titles: list[str], depth: int = 0) -> None:
    for child in node.childNodes:
        if not hasattr(child, "qname") or depth > _MAX_DEPTH:
            continue
        namespace, name = child.qname
        if (namespace, name) == (TEXTNS, "h"):
            level = int(child.getAttrNS(TEXTNS, "outline-level") or 1)
            text = teletype.extractText(child)
            headings.enter(level, text)
            if level <= 1 and short_title(text):
                titles.append(text)
        elif (namespace, name) == (TEXTNS, "p"):
            add_block(blocks, teletype.extractText(child), heading=headings.current)
        elif (namespace, name) == (TEXTNS, "list"):
            items = [teletype.extractText(item) for item in child.getElementsByType(_element("list-item", TEXTNS))]
            add_block(blocks, "\n".join(items), kind="list", heading=headings.current)
        elif (namespace, name) == (TABLENS, "table"):
            add_block(blocks, _table_text(child), kind="table", heading=headings.current)
        else:  # sections, frames: descend
            _walk(child, blocks, headings, titles, depth + 1)


def load_odt(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    check_office_zip(data, source, max_bytes, ".odt")
    _check_not_encrypted(data, source)
    try:
        document = load(io.BytesIO(data))
        blocks: list[Block] = []
        titles: list[str] = []
        _walk(document.text, blocks, HeadingPath(), titles)
    except InputError:
        raise
    except Exception as exc:  # odfpy raises KeyError, XML errors, AttributeError on broken parts
        raise CorruptDocument(f"{source}: not a readable .odt ({short_reason(exc)})") from exc
    return LoadedDocument(
        source=source,
        title=(short_title(titles[0]) if titles else None) or source_stem(source),
        blocks=blocks,
        media_type="application/vnd.oasis.opendocument.text",
    )

"""PowerPoint loader: python-pptx, one page per slide, the slide title as heading, notes kept.

LlamaIndex's PptxReader wraps the same library but reads from a path (a temporary file
for an upload) and flattens each slide into one text; here the title becomes the heading
that citations show and the slide number becomes the page.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from pptx import Presentation
from pptx.shapes.base import BaseShape
from pptx.shapes.group import GroupShape

from enclave_core.documents import Block, LoadedDocument
from enclave_core.errors import CorruptDocument, InputError

from ._common import add_block, clean_inline, short_reason, short_title, source_stem
from ._office import check_office_zip

__all__ = ["load_pptx"]

_MAX_GROUP_DEPTH = 8


def _shapes(shapes: Iterable[BaseShape], depth: int = 0) -> Iterable[BaseShape]:
    """Shapes in reading order (top to bottom, left to right), groups flattened."""
    ordered = sorted(shapes, key=lambda s: (s.top or 0, s.left or 0))
    for shape in ordered:
        if isinstance(shape, GroupShape) and depth < _MAX_GROUP_DEPTH:
            yield from _shapes(shape.shapes, depth + 1)
        else:
            yield shape


def _slide_blocks(
    blocks: list[Block], slide_shapes: Iterable[BaseShape], title_id: int | None, heading: str, page: int
) -> None:
    for shape in _shapes(slide_shapes):
        if shape.shape_id == title_id:
            continue
        if shape.has_table:
            rows = [" | ".join(clean_inline(cell.text) for cell in row.cells) for row in shape.table.rows]  # type: ignore[attr-defined]
            add_block(blocks, "\n".join(rows), kind="table", heading=heading, page=page)
        elif shape.has_text_frame:
            paragraphs = [p for p in shape.text_frame.paragraphs]  # type: ignore[attr-defined]
            bulleted = len(paragraphs) > 1 and any(p.level > 0 for p in paragraphs)
            lines = ["".join(run.text for run in p.runs) for p in paragraphs]
            if bulleted:
                add_block(blocks, "\n".join(lines), kind="list", heading=heading, page=page)
            else:
                for line in lines:
                    add_block(blocks, line, heading=heading, page=page)


def load_pptx(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """Slides in order; each block carries "Slide N: title" as heading and N as page."""
    check_office_zip(data, source, max_bytes, ".pptx")
    try:
        deck = Presentation(io.BytesIO(data))
        blocks: list[Block] = []
        first_title: str | None = None
        for number, slide in enumerate(deck.slides, start=1):
            title_shape = slide.shapes.title
            title = clean_inline(title_shape.text) if title_shape is not None and title_shape.has_text_frame else ""
            first_title = first_title or short_title(title)
            heading = f"Slide {number}: {title}" if title else f"Slide {number}"
            title_id = title_shape.shape_id if title_shape is not None else None
            _slide_blocks(blocks, slide.shapes, title_id, heading, number)
            if slide.has_notes_slide:
                notes = slide.notes_slide.notes_text_frame
                if notes is not None and notes.text.strip():
                    add_block(blocks, notes.text, heading=f"{heading} > Speaker notes", page=number)
        doc_title = short_title(deck.core_properties.title) or first_title
        slide_count = len(deck.slides)
    except InputError:
        raise
    except Exception as exc:  # python-pptx/lxml raise KeyError, ValueError, XMLSyntaxError...
        raise CorruptDocument(f"{source}: not a readable .pptx ({short_reason(exc)})") from exc
    return LoadedDocument(
        source=source,
        title=doc_title or source_stem(source),
        blocks=blocks,
        media_type="application/vnd.openxmlformats-officedocument.presentationml.presentation",
        metadata={"slides": str(slide_count)},
    )

"""Plain-text loader: paragraphs are separated by blank lines."""

from __future__ import annotations

import re

from enclave_core.documents import Block, LoadedDocument

from ._common import add_block, decode_text, short_title, source_stem

__all__ = ["load_text"]

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def load_text(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """Load a .txt file; the first line is the title when it is short enough to be one."""
    text, encoding = decode_text(data, source)
    blocks: list[Block] = []
    for paragraph in _BLANK_LINE.split(text):
        add_block(blocks, paragraph)
    first_line = text.lstrip().split("\n", 1)[0]
    return LoadedDocument(
        source=source,
        title=short_title(first_line) or source_stem(source),
        blocks=blocks,
        media_type="text/plain",
        metadata={"encoding": encoding},
    )

"""Plain-text loader: paragraphs are separated by blank lines; Japanese headings open sections.

Japanese office text rarely leaves blank lines around its headings ("第1条（目的）" on one line, the
article on the next) and wraps lines inside a sentence, so in a Japanese file each heading line
(``japanese.japanese_heading_level``) becomes the heading context of the paragraphs after it, and
the lines of a paragraph are joined without the space that would split a Japanese word.
"""

from __future__ import annotations

import re

from enclave_core.documents import Block, LoadedDocument
from enclave_core.language import is_japanese

from ._common import HeadingPath, add_block, decode_text, short_title, source_stem
from .japanese import japanese_heading_level

__all__ = ["load_text"]

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def load_text(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """Load a .txt file; the first line is the title when it is short enough to be one."""
    text, encoding = decode_text(data, source)
    blocks: list[Block] = []
    if is_japanese(text[:4000]):
        _japanese_blocks(text, blocks)
    else:
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


def _japanese_blocks(text: str, blocks: list[Block]) -> None:
    headings = HeadingPath()
    lines: list[str] = []
    # A heading with no text under it (a title-only memo, an empty last article) is text itself:
    # kept as a block under its parents' path, so nothing in the file is lost.
    bare: tuple[str, str | None] | None = None

    def flush() -> None:
        nonlocal bare
        joined = ""
        for line in lines:
            # A wrapped Japanese line continues its sentence: no space between two CJK characters.
            cjk_seam = joined and ord(joined[-1]) > 0x2E80 and ord(line[0]) > 0x2E80
            joined += line if not joined or cjk_seam else " " + line
        if joined:
            bare = None
        add_block(blocks, joined, heading=headings.current)
        lines.clear()

    def keep_bare_heading() -> None:
        if bare is not None:
            add_block(blocks, bare[0], heading=bare[1])

    for raw in text.split("\n"):
        line = raw.strip()
        level = japanese_heading_level(line)
        if level is not None:
            flush()
            keep_bare_heading()
            parents = headings.current
            headings.enter(level, line)
            bare = (line, parents)
        elif not line:
            flush()
        else:
            lines.append(line)
    flush()
    keep_bare_heading()

"""HTML loader built on the standard library's event parser.

html.parser is event driven (no tree, no recursion), so the state below is a few
counters rather than an element stack: 100,000 nested <div>s cost 100,000 cheap
events, never a RecursionError. Counters also tolerate the unclosed and stray tags
that real-world HTML is full of.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from enclave_core.documents import Block, LoadedDocument

from ._common import HeadingPath, add_block, clean_inline, decode_text, short_title, source_stem

__all__ = ["load_html"]

_SKIPPED = frozenset({"script", "style", "noscript", "template", "svg"})
_HEAD_ONLY = frozenset({"title", "meta", "link", "base", "style", "script", "noscript", "template"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "html",
        "li", "main", "nav", "ol", "p", "section", "summary", "ul",
    }
)  # fmt: skip
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)


class _PageParser(HTMLParser):
    """Turns parser events into blocks, a heading path and a title."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.headings = HeadingPath()
        self.title: str | None = None
        self.first_h1: str | None = None
        self._skip = 0  # depth inside script/style/... whose text is dropped
        self._in_head = False
        self._title_text: list[str] | None = None
        self._text: list[str] = []
        self._heading_level: int | None = None
        self._pre = 0
        self._lists = 0
        self._tables = 0
        self._rows: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def _end_title(self) -> None:
        if self._title_text is not None and self.title is None:
            self.title = short_title("".join(self._title_text))
        self._title_text = None

    # -- text outside tables -------------------------------------------------------
    def _flush(self) -> None:
        text = "".join(self._text)
        self._text = []
        if self._heading_level is not None:
            heading = clean_inline(text)
            if heading:  # an empty heading waits for the text of a nested element
                self.headings.enter(self._heading_level, heading)
                if self._heading_level == 1 and self.first_h1 is None:
                    self.first_h1 = short_title(heading)
                self._heading_level = None
            return
        kind = "code" if self._pre else "list" if self._lists else "paragraph"
        add_block(self.blocks, text, kind=kind, heading=self.headings.current)

    # -- tables: one block per outermost table, one line per row --------------------
    def _end_cell(self) -> None:
        if self._cell is not None:
            if self._row is None:
                self._row = []
            self._row.append(clean_inline("".join(self._cell)))
            self._cell = None

    def _end_row(self) -> None:
        self._end_cell()
        if self._row and any(self._row):
            self._rows.append(" | ".join(self._row))
        self._row = None

    def _end_table(self) -> None:
        self._end_row()
        add_block(self.blocks, "\n".join(self._rows), kind="table", heading=self.headings.current)
        self._rows = []
        self._tables = 0

    def _table_start(self, tag: str) -> None:
        if tag == "table":
            self._tables += 1
        if self._tables == 1 and tag in ("td", "th"):
            self._end_cell()
            self._cell = []
        elif self._tables == 1 and tag == "tr":
            self._end_row()
        elif self._cell is not None:
            self._cell.append(" ")  # nested markup still separates words

    def _table_end(self, tag: str) -> None:
        if tag == "table":
            if self._tables == 1:
                self._end_table()
            else:
                self._tables -= 1
        elif self._tables == 1 and tag in ("td", "th"):
            self._end_cell()
        elif self._tables == 1 and tag == "tr":
            self._end_row()
        elif self._cell is not None:
            self._cell.append(" ")

    # -- parser events -------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
        if self._skip:
            return
        if self._title_text is not None and tag not in _HEAD_ONLY:
            self._end_title()  # an unclosed <title> ends at the first body element
        if tag == "title":
            self._title_text = []
            return
        if tag == "head":
            self._in_head = True
            return
        if self._in_head and tag not in _HEAD_ONLY:
            self._in_head = False  # browsers close <head> at the first body element
        if self._tables:
            self._table_start(tag)
        elif tag == "table":
            self._flush()
            self._tables = 1
        elif tag in _HEADINGS:
            self._flush()
            self._heading_level = int(tag[1])
        elif tag == "br":
            self._text.append("\n")
        elif tag == "pre":
            self._flush()
            self._pre += 1
        elif tag in _BLOCK_TAGS:
            self._flush()
            if tag in ("ul", "ol"):
                self._lists += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag == "title":
            self._end_title()
        elif tag == "head":
            self._in_head = False
        elif self._tables:
            self._table_end(tag)
        elif tag in _HEADINGS:
            self._flush()
            self._heading_level = None
        elif tag == "pre":
            self._flush()
            self._pre = max(0, self._pre - 1)
        elif tag in _BLOCK_TAGS:
            self._flush()
            if tag in ("ul", "ol"):
                self._lists = max(0, self._lists - 1)

    def handle_data(self, data: str) -> None:
        if self._title_text is not None:
            self._title_text.append(data)
            return
        if self._skip:
            return
        if self._in_head:
            if not data.strip():
                return
            self._in_head = False
        if self._tables:
            if self._cell is None:
                self._cell = []  # text in a table but outside any cell (e.g. a caption)
            self._cell.append(data)
        else:
            self._text.append(data)

    def finish(self) -> None:
        """Close the input and emit whatever unclosed elements still hold."""
        self.close()
        self._end_title()
        if self._tables:
            self._end_table()
        self._flush()
        self._heading_level = None


def load_html(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """Load an HTML page; title from <title>, else the first <h1>, else the file name."""
    declared = _META_CHARSET.search(data[:4096])
    text, encoding = decode_text(data, source, declared.group(1).decode("ascii") if declared else None)
    parser = _PageParser()
    parser.feed(text)
    parser.finish()
    return LoadedDocument(
        source=source,
        title=parser.title or parser.first_h1 or source_stem(source),
        blocks=parser.blocks,
        media_type="text/html",
        metadata={"encoding": encoding},
    )

"""Markdown loader: a small line-based reader, enough for headings, lists, tables and code.

A full CommonMark parser would be a new dependency for little gain: retrieval only
needs the text, where it sits (heading path) and what kind of block it is.
"""

from __future__ import annotations

import re

from enclave_core.documents import Block, LoadedDocument

from ._common import HeadingPath, add_block, decode_text, short_title, source_stem

__all__ = ["load_markdown", "strip_inline_markdown"]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*))?$")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_ITEM = re.compile(r"^[ \t]*([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$")
_TABLE_DELIMITER = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_QUOTE = re.compile(r"^(?: {0,3}>[ \t]?)+")
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\[\]]+\]:[ \t]*\S")
_FRONT_MATTER_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$")

# Inline syntax. Every pattern uses a negated class for its body so that a line
# full of unmatched delimiters is scanned in linear time (no catastrophic backtracking).
_INLINE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"`+([^`]+)`+"), r"\1"),
    (re.compile(r"!\[([^\[\]]*)\]\([^()]*\)"), r"\1"),
    (re.compile(r"\[([^\[\]]*)\]\([^()]*\)"), r"\1"),
    (re.compile(r"\[([^\[\]]+)\]\[[^\[\]]*\]"), r"\1"),
    (re.compile(r"<((?:https?|mailto):[^<>\s]+)>"), r"\1"),
    (re.compile(r"\*\*(?=\S)([^*]+)(?<=\S)\*\*"), r"\1"),
    (re.compile(r"(?<!\w)__(?=\S)([^_]+)(?<=\S)__(?!\w)"), r"\1"),
    (re.compile(r"\*(?=\S)([^*]+)(?<=\S)\*"), r"\1"),
    (re.compile(r"(?<!\w)_(?=\S)([^_]+)(?<=\S)_(?!\w)"), r"\1"),
    (re.compile(r"~~(?=\S)([^~]+)(?<=\S)~~"), r"\1"),
    (re.compile(r"\\([!-/:-@\[-`{-~])"), r"\1"),
)


def strip_inline_markdown(text: str) -> str:
    """Remove emphasis, code and link syntax but keep the words a reader sees."""
    for pattern, replacement in _INLINE_RULES:
        text = pattern.sub(replacement, text)
    return text


class _Reader:
    """Walks the lines once, emitting blocks; one method per construct."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.pos = 0
        self.blocks: list[Block] = []
        self.headings = HeadingPath()
        self.title: str | None = None
        self.paragraph: list[str] = []
        self.items: list[str] = []

    # -- output ---------------------------------------------------------------
    def flush_paragraph(self) -> None:
        if self.paragraph:
            text = strip_inline_markdown(" ".join(self.paragraph))
            add_block(self.blocks, text, heading=self.headings.current)
            self.paragraph = []

    def flush_list(self) -> None:
        if self.items:
            add_block(self.blocks, "\n".join(self.items), kind="list", heading=self.headings.current)
            self.items = []

    def flush(self) -> None:
        self.flush_paragraph()
        self.flush_list()

    def heading(self, level: int, text: str) -> None:
        text = strip_inline_markdown(text)
        self.headings.enter(level, text)
        if level == 1 and self.title is None:
            self.title = short_title(text)

    # -- constructs -------------------------------------------------------------
    def front_matter(self) -> None:
        """Skip a YAML front-matter block, keeping its title: it is metadata, not prose."""
        if not self.lines or self.lines[0].strip() != "---":
            return
        for end in range(1, min(len(self.lines), 200)):
            if self.lines[end].strip() in ("---", "..."):
                for line in self.lines[1:end]:
                    match = _FRONT_MATTER_TITLE.match(line)
                    if match and self.title is None:
                        self.title = short_title(match.group(1).strip("\"'"))
                self.pos = end + 1
                return

    def fence(self, marker: str) -> None:
        closing = re.compile(rf"^ {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
        self.pos += 1
        body: list[str] = []
        while self.pos < len(self.lines) and not closing.match(self.lines[self.pos]):
            body.append(self.lines[self.pos])
            self.pos += 1
        self.pos += 1  # the closing fence (or past the end when unclosed)
        add_block(self.blocks, "\n".join(body), kind="code", heading=self.headings.current)

    def table(self) -> None:
        rows = [self.lines[self.pos]]
        self.pos += 2  # header row and delimiter row
        while self.pos < len(self.lines) and "|" in self.lines[self.pos] and self.lines[self.pos].strip():
            rows.append(self.lines[self.pos])
            self.pos += 1
        text = "\n".join(strip_inline_markdown(row.strip()) for row in rows)
        add_block(self.blocks, text, kind="table", heading=self.headings.current)

    def skip_blank_lines(self) -> None:
        """Consume a run of blank lines; it ends a list unless the next text is an item
        or indented (a loose list). Done in one pass so long blank runs stay linear."""
        self.flush_paragraph()
        while self.pos < len(self.lines) and not self.lines[self.pos].strip():
            self.pos += 1
        if self.items and self.pos < len(self.lines):
            line = self.lines[self.pos]
            if _LIST_ITEM.match(line) or line[:1] in (" ", "\t"):
                return
        self.flush_list()

    def is_table_start(self, line: str) -> bool:
        """A pipe row followed by a delimiter row; called with pos already on the next line."""
        if "|" not in line or self.pos >= len(self.lines):
            return False
        delimiter = self.lines[self.pos]
        return "|" in delimiter and bool(_TABLE_DELIMITER.match(delimiter))

    def read(self) -> None:
        self.front_matter()
        while self.pos < len(self.lines):
            self.step(self.lines[self.pos])
        self.flush()

    def step(self, line: str) -> None:
        fence = _FENCE.match(line)
        if fence:
            self.flush()
            self.fence(fence.group(1))
            return
        if not line.strip():
            self.skip_blank_lines()
            return
        self.pos += 1
        atx = _ATX.match(line)
        if atx:
            self.flush()
            self.heading(len(atx.group(1)), _ATX_CLOSING.sub("", atx.group(2) or ""))
        elif self.paragraph and not self.items and _SETEXT.match(line):
            text = " ".join(self.paragraph)
            self.paragraph = []
            self.heading(1 if line.strip().startswith("=") else 2, text)
        elif _RULE.match(line):
            self.flush()
        elif self.is_table_start(line):
            self.flush()
            self.pos -= 1
            self.table()
        elif item := _LIST_ITEM.match(line):
            self.flush_paragraph()
            ordered = item.group(1)[0].isdigit()
            if self.items and ordered != self.items[-1][0].isdigit():
                self.flush_list()  # switching between bullets and numbers starts a new list
            marker = item.group(1) if ordered else "-"
            self.items.append(f"{marker} {strip_inline_markdown(item.group(2) or '')}")
        elif self.items:
            self.items[-1] += " " + strip_inline_markdown(_QUOTE.sub("", line).strip())
        elif not _LINK_DEFINITION.match(line):
            self.paragraph.append(_QUOTE.sub("", line))


def load_markdown(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """Load a Markdown file; the title is the front-matter title, else the first H1."""
    text, encoding = decode_text(data, source)
    reader = _Reader(text.split("\n"))
    reader.read()
    return LoadedDocument(
        source=source,
        title=reader.title or source_stem(source),
        blocks=reader.blocks,
        media_type="text/markdown",
        metadata={"encoding": encoding},
    )

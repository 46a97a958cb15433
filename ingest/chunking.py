"""Structure-aware chunking: blocks in, embedding-sized chunks out.

Chunks follow the document's structure because a retrieved chunk is shown as a
citation: it must sit on one page and under one heading. Small neighbouring blocks
are merged so chunks carry enough context; a long block is split at sentence
boundaries with a little overlap so no sentence loses its lead-in.

Japanese (and any CJK text) has no spaces, so "words" cannot be counted by splitting:
each kana/kanji counts as 1/CJK_CHARS_PER_WORD of a word (180 words ~ 400 characters),
sentences end at 。！？, and windows and overlaps are cut between characters. Text
without CJK characters is measured and cut exactly as before.

Japanese rules and manuals put every short article under its own heading (第8条 is ~100 characters),
so one chunk per heading gave ~90-character chunks: the title and heading path that go into each
embedding were a third of it, and an article was retrieved without its neighbours. Consecutive
Japanese sections on one page are therefore merged up to the same size as English text: the
chunk's heading is their common heading path (none: the document's title), and each section's own
heading becomes its first line (measured in docs/benchmarks.md, Japanese). English blocks never merge across headings.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from enclave_core.documents import Block, Chunk, LoadedDocument
from enclave_core.language import is_japanese

__all__ = ["chunk_document", "split_sentences"]

# A sentence ends at . ! ? or … (optionally followed by a closing quote or bracket)
# followed by whitespace, unless the next word starts lower-case ("e.g. this").
_SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+(?=[^\sa-z])")
_LINE_KINDS = frozenset({"table", "list", "code"})
# Japanese sentence ends: after 。！？ (and a closing bracket or quote right after one).
_JA_SENTENCE_END = re.compile(r"(?:(?<=[。！？])|(?<=[。！？][」』）)]))(?![」』）)。！？])\s*")
# CJK characters, each a fraction of a "word"; Japanese averages ~2.2 characters per English-word equivalent.
_CJK = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]"
)
_UNIT = re.compile("\\s*(?:" + _CJK.pattern + "|[^\\s" + _CJK.pattern[1:-1] + "]+)")
CJK_CHARS_PER_WORD = 2.2
HEADING_SEPARATOR = " > "  # as loaders join a heading path (ingest/loaders/_common.py HeadingPath)


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences with a deliberately simple rule (no language model)."""
    sentences = [sentence for sentence in _SENTENCE_END.split(text) if sentence.strip()]
    if text.isascii():
        return sentences
    return [part for sentence in sentences for part in _JA_SENTENCE_END.split(sentence) if part.strip()]


def _words(text: str) -> int:
    """Size in words; a CJK character counts as 1/CJK_CHARS_PER_WORD of one."""
    if text.isascii():
        return len(text.split())
    cjk = len(_CJK.findall(text))
    return len(_CJK.sub(" ", text).split()) + math.ceil(cjk / CJK_CHARS_PER_WORD)


def _unit_weight(unit: str) -> float:
    return 1 / CJK_CHARS_PER_WORD if _CJK.fullmatch(unit.strip()) else 1.0


def _windows(text: str, size: int) -> list[str]:
    """Cut a unit with no usable boundary into runs of at most size words."""
    if text.isascii():
        words = text.split()
        return [" ".join(words[start : start + size]) for start in range(0, len(words), size)]
    pieces: list[str] = []
    current: list[str] = []
    used = 0.0
    for unit in _UNIT.findall(text):
        weight = _unit_weight(unit)
        if current and used + weight > size:
            pieces.append("".join(current).strip())
            current, used = [], 0.0
        current.append(unit)
        used += weight
    if current:
        pieces.append("".join(current).strip())
    return [p for p in pieces if p]


def _tail(text: str, size: int) -> str:
    """The last ``size`` words of ``text`` (CJK characters weighted as in ``_words``)."""
    if not size:
        return ""
    if text.isascii():
        return " ".join(text.split()[-size:])
    units = _UNIT.findall(text)
    used = 0.0
    start = len(units)
    while start > 0 and used + _unit_weight(units[start - 1]) <= size:
        start -= 1
        used += _unit_weight(units[start])
    return "".join(units[start:]).strip()


def _join(parts: list[str], sep: str) -> str:
    """``sep.join(parts)``, except that Japanese sentences follow each other without a space."""
    if sep != " ":
        return sep.join(parts)
    out = ""
    for part in parts:
        if out and not (_CJK.match(out[-1]) and _CJK.match(part[:1])):
            out += " "
        out += part
    return out


def _fit(units: list[str], size: int) -> list[str]:
    fitted: list[str] = []
    for unit in units:
        fitted.extend(_windows(unit, size) if _words(unit) > size else [unit])
    return fitted


def _pack(units: list[str], *, sep: str, max_words: int, overlap: int, header: str = "") -> list[str]:
    """Greedily pack units (each small enough to fit) into pieces of at most max_words.

    Each piece after the first starts with the last `overlap` words of the previous
    one; `header` (a table's header row) is repeated at the top of every piece.
    """
    pieces: list[str] = []
    lead = ""
    body: list[str] = []
    used = _words(header)
    for unit in units:
        size = _words(unit)
        if body and used + size > max_words:
            previous = _join([part for part in (lead, _join(body, sep)) if part], " ")
            pieces.append(_join([part for part in (header, lead, _join(body, sep)) if part], sep))
            lead = _tail(previous, overlap)
            body = []
            used = _words(header) + _words(lead)
        body.append(unit)
        used += size
    if body:
        pieces.append(_join([part for part in (header, lead, _join(body, sep)) if part], sep))
    return pieces


def _split_block(block: Block, max_words: int, overlap: int) -> list[str]:
    """Split one block longer than max_words into pieces that each fit."""
    if block.kind == "table":
        rows = block.text.split("\n")
        header = rows[0] if len(rows) > 1 and _words(rows[0]) <= max_words // 4 else ""
        body_rows = rows[1:] if header else rows
        units = _fit(body_rows, max_words - _words(header))
        return _pack(units, sep="\n", max_words=max_words, overlap=0, header=header)
    if block.kind in _LINE_KINDS:
        units = _fit(block.text.split("\n"), max_words - overlap)
        return _pack(units, sep="\n", max_words=max_words, overlap=overlap)
    units = _fit(split_sentences(block.text), max_words - overlap)
    return _pack(units, sep=" ", max_words=max_words, overlap=overlap)


def _path(heading: str | None) -> list[str]:
    return heading.split(HEADING_SEPARATOR) if heading else []


def _common_heading(headings: list[str | None]) -> str | None:
    """The longest heading path all of ``headings`` share (None when they share nothing)."""
    common = _path(headings[0])
    for heading in headings[1:]:
        path = _path(heading)
        keep = 0
        while keep < min(len(common), len(path)) and common[keep] == path[keep]:
            keep += 1
        common = common[:keep]
    return HEADING_SEPARATOR.join(common) or None


@dataclass
class _Pending:
    """Small blocks waiting to be merged into one chunk (with the heading each sat under)."""

    texts: list[str] = field(default_factory=list)
    headings: list[str | None] = field(default_factory=list)
    words: int = 0
    page: int | None = None
    heading: str | None = None
    japanese: bool = False

    def accepts(self, block: Block, size: int, max_words: int) -> bool:
        if not self.texts or block.page != self.page:
            return False
        if block.heading == self.heading:
            return self.words + size <= max_words
        # Another section: only Japanese text next to Japanese text, counting the heading line it gets.
        extra = _words(_path(block.heading)[-1]) if block.heading else 0
        return self.japanese and self.words + size + extra <= max_words and is_japanese(block.text)

    def add(self, block: Block, size: int) -> None:
        if not self.texts:
            self.page, self.heading, self.japanese = block.page, block.heading, is_japanese(block.text)
        elif block.heading != self.heading and block.heading:
            size += _words(_path(block.heading)[-1])
        self.texts.append(block.text)
        self.headings.append(block.heading)
        self.words += size

    def merged(self) -> tuple[str, str | None]:
        """The chunk text and heading; sections below the common heading open with their own heading line."""
        common = _common_heading(self.headings)
        depth = len(_path(common))
        parts: list[str] = []
        shown: list[str] | None = None
        for text, heading in zip(self.texts, self.headings, strict=True):
            own = _path(heading)[depth:]
            if own and own != shown:
                text = HEADING_SEPARATOR.join(own) + "\n" + text
            shown = own
            parts.append(text)
        return "\n\n".join(parts), common


def chunk_document(doc: LoadedDocument, *, max_words: int = 180, overlap_words: int = 30) -> list[Chunk]:
    """Cut a loaded document into chunks of at most max_words words.

    Deterministic (a re-ingest yields identical chunks, so ids stay stable). The
    overlap is capped at half of max_words, since settings allow overlap_words to be
    configured above a small max_words and the split must still make progress.
    """
    if max_words < 1:
        raise ValueError("max_words must be at least 1")
    if overlap_words < 0:
        raise ValueError("overlap_words must not be negative")
    overlap = min(overlap_words, max_words // 2)
    chunks: list[Chunk] = []
    pending = _Pending()

    def emit(text: str, page: int | None, heading: str | None) -> None:
        chunks.append(Chunk(index=len(chunks), text=text, page=page, heading=heading))

    def flush() -> None:
        if pending.texts:
            text, heading = pending.merged()
            emit(text, pending.page, heading)
        pending.texts, pending.headings, pending.words = [], [], 0

    for block in doc.blocks:
        size = _words(block.text)
        if size == 0:
            continue
        if size > max_words:
            flush()
            for piece in _split_block(block, max_words, overlap):
                emit(piece, block.page, block.heading)
            continue
        if not pending.accepts(block, size, max_words):
            flush()
        pending.add(block, size)
    flush()
    return chunks

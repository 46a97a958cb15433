"""Structure-aware chunking: blocks in, embedding-sized chunks out.

Chunks follow the document's structure because a retrieved chunk is shown as a
citation: it must sit on one page and under one heading. Small neighbouring blocks
are merged so chunks carry enough context; a long block is split at sentence
boundaries with a little overlap so no sentence loses its lead-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from enclave_core.documents import Block, Chunk, LoadedDocument

__all__ = ["chunk_document", "split_sentences"]

# A sentence ends at . ! ? or … (optionally followed by a closing quote or bracket)
# followed by whitespace, unless the next word starts lower-case ("e.g. this").
_SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+(?=[^\sa-z])")
_LINE_KINDS = frozenset({"table", "list", "code"})


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences with a deliberately simple rule (no language model)."""
    return [sentence for sentence in _SENTENCE_END.split(text) if sentence.strip()]


def _words(text: str) -> int:
    return len(text.split())


def _windows(text: str, size: int) -> list[str]:
    """Cut a unit with no usable boundary into runs of at most size words."""
    words = text.split()
    return [" ".join(words[start : start + size]) for start in range(0, len(words), size)]


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
            previous = " ".join(part for part in (lead, " ".join(body)) if part)
            pieces.append(sep.join(part for part in (header, lead, sep.join(body)) if part))
            lead = " ".join(previous.split()[-overlap:]) if overlap else ""
            body = []
            used = _words(header) + _words(lead)
        body.append(unit)
        used += size
    if body:
        pieces.append(sep.join(part for part in (header, lead, sep.join(body)) if part))
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


@dataclass
class _Pending:
    """Small blocks waiting to be merged into one chunk."""

    texts: list[str] = field(default_factory=list)
    words: int = 0
    page: int | None = None
    heading: str | None = None

    def accepts(self, block: Block, size: int, max_words: int) -> bool:
        same_place = (block.page, block.heading) == (self.page, self.heading)
        return bool(self.texts) and same_place and self.words + size <= max_words


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
            emit("\n\n".join(pending.texts), pending.page, pending.heading)
        pending.texts, pending.words = [], 0

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
            pending.page, pending.heading = block.page, block.heading
        pending.texts.append(block.text)
        pending.words += size
    flush()
    return chunks

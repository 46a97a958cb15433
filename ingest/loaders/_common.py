"""Helpers shared by the format loaders: decoding, whitespace cleaning, headings, titles."""

from __future__ import annotations

import codecs
import re
from pathlib import PurePosixPath

from enclave_core.documents import Block
from enclave_core.errors import CorruptDocument, UndecodableDocument

from .japanese import best_japanese_decoding

__all__ = [
    "HeadingPath",
    "add_block",
    "clean_code",
    "clean_inline",
    "clean_lines",
    "decode_text",
    "extension_of",
    "short_reason",
    "short_title",
    "source_stem",
]

MAX_TITLE_CHARS = 120
MAX_HEADING_CHARS = 200

# Invisible characters that only break words apart for search; ZWJ/ZWNJ are kept on
# purpose because some scripts (Persian, Indic) need them.
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
# C0/C1 control characters except tab and newline: they never carry meaning in prose.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Encodings whose declaration browsers read as windows-1252; we do the same.
# A file that is not UTF-8, Japanese or cp1252 is read as latin-1 only when its non-ASCII bytes are
# this rare (a stray byte in English text); more of them is an encoding we do not know.
_MAX_STRAY_BYTE_SHARE = 0.02
_CP1252_ALIASES = {"ascii", "us-ascii", "latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1"}


def extension_of(source: str) -> str:
    """Lower-cased extension of a path given with either slash style."""
    return PurePosixPath(source.replace("\\", "/")).suffix.lower()


def source_stem(source: str) -> str:
    """The file name without extension: the title of last resort."""
    path = PurePosixPath(source.replace("\\", "/"))
    return path.stem or path.name or source


def short_reason(exc: BaseException) -> str:
    """The library error's class name, for a user-facing message; never its text.

    Parsers quote the document in their messages (an XML error shows the offending markup, a
    PDF error the broken object), and these messages are kept in job state, logs and API
    responses, where no plaintext of a document may go. The full error stays on the exception
    chain for a debugger, not in any record.
    """
    return type(exc).__name__


def decode_text(data: bytes, source: str, declared: str | None = None) -> tuple[str, str]:
    """Decode a text file and return (text, encoding).

    BOMs win; then a declared charset (HTML meta), then strict UTF-8, then the Japanese office
    encodings (Shift_JIS/CP932, EUC-JP: ``japanese.best_japanese_decoding``), then cp1252, then latin-1
    for a file that is mostly ASCII with a few stray bytes. A file with many non-ASCII bytes that none
    of these reads is rejected as UndecodableDocument instead of being indexed as mojibake. NUL bytes
    without a UTF-16/32 BOM, or a text that is mostly control characters, mean the file is binary:
    indexing it would only put garbage into the vector store, so it is rejected as CorruptDocument.
    """
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            text = data.decode(encoding, errors="replace")
            break
    else:
        if b"\x00" in data:
            raise CorruptDocument(f"{source}: binary content, not a text file")
        text, encoding = _decode_without_bom(data, declared, source)
    if _looks_binary(text):
        raise CorruptDocument(f"{source}: binary content, not a text file")
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _decode_without_bom(data: bytes, declared: str | None, source: str) -> tuple[str, str]:
    if declared:
        declared = declared.strip().lower()
        encoding = "cp1252" if declared in _CP1252_ALIASES else declared
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    japanese = best_japanese_decoding(data)
    if japanese is not None:
        return japanese
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        pass
    high = sum(1 for b in data if b >= 0x80)
    if high > max(8, len(data) * _MAX_STRAY_BYTE_SHARE):
        raise UndecodableDocument(
            f"{source}: text in an unknown encoding (tried UTF-8, Shift_JIS/CP932, EUC-JP, cp1252); "
            "save it as UTF-8 and upload it again"
        )
    return data.decode("latin-1"), "latin-1"


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    sample = text[:65536]
    controls = len(_CONTROL.findall(sample.replace("\r", "").replace("\f", "")))
    return controls > max(8, len(sample) * 0.1)  # a few stray controls do not make a binary


def _scrub(text: str) -> str:
    return _CONTROL.sub(" ", _INVISIBLE.sub("", text))


def clean_inline(text: str) -> str:
    """Collapse all whitespace, newlines included, to single spaces."""
    return " ".join(_scrub(text).split())


def clean_lines(text: str) -> str:
    """Collapse whitespace within each line and drop empty lines (lists, tables)."""
    lines = (clean_inline(line) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def clean_code(text: str) -> str:
    """Keep code layout (indentation matters to a reader) but drop trailing blanks."""
    lines = [_scrub(line.replace("\t", "    ")).rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def short_title(text: str | None) -> str | None:
    """A cleaned title candidate, or None when empty or too long to be a title."""
    if not text:
        return None
    title = clean_inline(text)
    return title if 0 < len(title) < MAX_TITLE_CHARS else None


def add_block(
    blocks: list[Block],
    text: str,
    *,
    kind: str = "paragraph",
    heading: str | None = None,
    page: int | None = None,
) -> None:
    """Clean text the way its kind needs and append it unless nothing is left."""
    if kind == "code":
        cleaned = clean_code(text)
    elif kind in ("table", "list"):
        cleaned = clean_lines(text)
    else:
        cleaned = clean_inline(text)
    if cleaned:
        blocks.append(Block(text=cleaned, page=page, heading=heading, kind=kind))


class HeadingPath:
    """The stack of open headings, rendered as "Top > Sub > Subsub".

    A heading closes every open heading of the same or a deeper level, which is how
    numbered outlines behave in all three structured formats.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def enter(self, level: int, text: str) -> None:
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        text = clean_inline(text)
        if len(text) > MAX_HEADING_CHARS:
            text = text[: MAX_HEADING_CHARS - 1] + "…"
        if text:
            self._stack.append((level, text))

    @property
    def current(self) -> str | None:
        return " > ".join(text for _, text in self._stack) or None

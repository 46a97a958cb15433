"""RTF loader: striprtf turns the markup into plain text; paragraphs are its blank-line runs.

LlamaIndex's RTFReader wraps the same function but reads a path and pins an older striprtf.
"""

from __future__ import annotations

import re

from striprtf.striprtf import rtf_to_text

from enclave_core.documents import Block, LoadedDocument
from enclave_core.errors import CorruptDocument

from ._common import add_block, short_reason, source_stem

__all__ = ["load_rtf"]

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\n(?=\S)")


def load_rtf(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """RTF is 7-bit text with escapes for everything else, so latin-1 decoding is lossless here."""
    if not data.lstrip().startswith(b"{\\rtf"):
        raise CorruptDocument(f"{source}: not a readable .rtf (no RTF header)")
    try:
        text = rtf_to_text(data.decode("latin-1"), errors="replace")
    except Exception as exc:  # striprtf raises on unknown code pages and broken escapes
        raise CorruptDocument(f"{source}: not a readable .rtf ({short_reason(exc)})") from exc
    blocks: list[Block] = []
    for paragraph in _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n")):
        add_block(blocks, paragraph)
    return LoadedDocument(source=source, title=source_stem(source), blocks=blocks, media_type="application/rtf")

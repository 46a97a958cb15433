"""Enclave's own PII development set in real-document genres (``benchmarks/data/pii_genres/``).

Hand-written passages (e-mail signatures, HR records, support chats, invoices, CVs, log lines, CSV/TSV
rows, medical and leave notes, many countries' identifiers) plus passages without personal data but full
of look-alikes (order, ticket, invoice, tracking, version and VAT numbers, timestamps, product and company
names, eponyms). None is derived from presidio-evaluator's templates.

Markup: ``[[TYPE:value]]`` marks a personal value; ``=== <id> <genre>`` starts a passage, whose text runs
to the next header (the newline before the header is not part of it). ``load_passages`` returns records
in presidio-synth's JSON format (``full_text``, ``spans`` with offsets), plus ``id`` and ``genre``.

Two files: ``dev.txt`` (developed against) and ``unseen.txt`` (scored once at the end of a session,
never used for error analysis). Both are development figures, not a held-out test.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["GENRES_DIR", "NO_PII_GENRE", "load_passages", "parse_passages"]

GENRES_DIR = Path(__file__).resolve().parent / "data" / "pii_genres"
NO_PII_GENRE = "no-pii"
_HEADER = re.compile(r"^=== (\S+) (\S+)[ \t]*$", re.MULTILINE)
_MARK = re.compile(r"\[\[([A-Z_]+):(.+?)\]\]", re.DOTALL)


def parse_passages(source: str) -> list[dict[str, Any]]:
    """Records from the markup (see the module doc); raises ValueError on malformed markup."""
    headers = list(_HEADER.finditer(source))
    records: list[dict[str, Any]] = []
    for k, header in enumerate(headers):
        body_end = headers[k + 1].start() - 1 if k + 1 < len(headers) else len(source.rstrip("\n"))
        raw = source[header.end() + 1 : body_end]
        text_parts: list[str] = []
        spans: list[dict[str, Any]] = []
        pos = length = 0
        for m in _MARK.finditer(raw):
            text_parts.append(raw[pos : m.start()])
            length += m.start() - pos
            value = m.group(2)
            spans.append(
                {
                    "entity_type": m.group(1),
                    "entity_value": value,
                    "start_position": length,
                    "end_position": length + len(value),
                }
            )
            text_parts.append(value)
            length += len(value)
            pos = m.end()
        text_parts.append(raw[pos:])
        text = "".join(text_parts)
        if "[[" in text or "]]" in text:
            raise ValueError(f"passage {header.group(1)}: unbalanced [[...]] markup")
        records.append({"id": header.group(1), "genre": header.group(2), "full_text": text, "spans": spans})
    return records


def load_passages(path: Path) -> list[dict[str, Any]]:
    """Parse one markup file of ``GENRES_DIR`` (or any path)."""
    return parse_passages(Path(path).read_text(encoding="utf-8"))

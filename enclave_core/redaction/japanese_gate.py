"""Which sentences of a Japanese text GiNZA's NER has to read.

Why: GiNZA (tok2vec width 256, depth 8) was ~95 % of Japanese redaction time, yet its entities that
the policy keeps are names of people and places (plus addresses, phones and e-mails, which the
pattern recognizers find on their own). Sudachi, which tokenises the text anyway, tags proper nouns
(名詞-固有名詞-人名/地名/一般); a sentence with no proper noun and no other sign of a name (an
honorific, a romaji word, an @) has nothing for GiNZA's person or place labels to find. Only
the sentences with such a sign are given to GiNZA, neighbours merged into one piece so that the
NER keeps their context. The gate is measured, not assumed: ``benchmarks/ja_ner_gate.py`` checks on
every Japanese PII set that the gated analyzer finds everything the ungated one does.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

import regex as re

__all__ = ["NerGate", "ner_regions"]

# A sentence: up to and including its end mark (。！？!?) or line break.
_SENTENCE = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+|\n|$)")


@dataclass(frozen=True)
class NerGate:
    """The signs that send a sentence to GiNZA. ``enabled=False``: every sentence goes (the old path)."""

    enabled: bool = True
    proper_nouns: bool = True
    signs: str = r"様|さん|氏|殿|君|ちゃん|くん|先生|[A-Z][a-z]+|[A-Z]{2,}|@"
    """Honorifics, romaji words (names written in Latin letters) and e-mail at-signs."""

    def compiled(self) -> Any:
        return re.compile(self.signs)


def ner_regions(doc: Any, gate: NerGate) -> list[tuple[int, int]]:
    """Character ranges of ``doc`` (a tokenised spaCy Doc) to run the NER on, adjacent sentences merged."""
    text: str = doc.text
    if not gate.enabled:
        return [(0, len(text))] if text else []
    proper = [t.idx for t in doc if gate.proper_nouns and "固有名詞" in t.tag_]
    signs = gate.compiled()
    regions: list[tuple[int, int]] = []
    for m in _SENTENCE.finditer(text):
        start, end = m.span()
        if start == end:
            continue
        i = bisect_left(proper, start)
        if (i < len(proper) and proper[i] < end) or signs.search(text, start, end):
            if regions and regions[-1][1] == start:
                regions[-1] = (regions[-1][0], end)
            else:
                regions.append((start, end))
    return regions

"""Japanese terms for BM25: Sudachi morphemes with normalised forms and a part-of-speech stop filter.

Japanese is written without spaces, so the English tokenizer would index a whole sentence as one
term. Runs of Japanese script (kana, kanji, the iteration and prolonged-sound marks, half-width
katakana) are cut out of the text by character class and analysed by Sudachi; the rest of the text
goes back to the caller untouched, so English terms do not change.

Each morpheme is indexed by its normalised form (行え -> 行う, ﾊﾟｽﾜｰﾄﾞ -> パスワード) in split mode C,
the longest unit (年次有給休暇), plus its mode-A parts when it has several (年次, 有給, 休暇): a query
that says 有給休暇 then still meets a document that says 年次有給休暇. Particles, auxiliary verbs,
punctuation and whitespace carry no topic and are dropped, like English stop words.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sudachipy import Tokenizer

__all__ = ["STOP_POS", "fold_width", "japanese_terms", "split_scripts"]

# Parts of speech (Sudachi's first level) that never carry a topic.
STOP_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白"})

# Hiragana, katakana (with the prolonged-sound mark), kanji (with 々 and 〆), half-width katakana.
_JAPANESE_RUN = re.compile(
    r"[\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005\u3006\uff66-\uff9f]+"
)

# Full-width ASCII (ＰＣ, １２) -> ASCII, and the ideographic space -> a space; nothing else changes.
_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_local = threading.local()


def fold_width(text: str) -> str:
    return text.translate(_WIDTH)


def split_scripts(text: str) -> tuple[str, list[str]]:
    """The text with its Japanese runs blanked out, and the Japanese terms of those runs.

    Text without Japanese script or full-width characters comes back as the same string object.
    """
    if not _JAPANESE_RUN.search(text):
        return (fold_width(text) if _has_full_width(text) else text), []
    terms: list[str] = []
    for run in _JAPANESE_RUN.findall(text):
        terms.extend(japanese_terms(run))
    return fold_width(_JAPANESE_RUN.sub(" ", text)), terms


def japanese_terms(run: str) -> list[str]:
    from sudachipy import SplitMode

    terms: list[str] = []
    for morpheme in _tokenizer().tokenize(run, SplitMode.C):
        if morpheme.part_of_speech()[0] in STOP_POS:
            continue
        terms.append(morpheme.normalized_form())
        parts = morpheme.split(SplitMode.A)
        if len(parts) > 1:
            terms.extend(p.normalized_form() for p in parts if p.part_of_speech()[0] not in STOP_POS)
    return [t.lower() for t in terms if t.strip() and len(t) < 40]


def _has_full_width(text: str) -> bool:
    return any(0xFF01 <= ord(c) <= 0xFF5E or c == "\u3000" for c in text)


def _tokenizer() -> Tokenizer:
    # Sudachi tokenizers are not safe to share between threads; the dictionary loads in ~0.1 s.
    tokenizer: Tokenizer | None = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        from sudachipy import Dictionary

        tokenizer = Dictionary().create()
        _local.tokenizer = tokenizer
    return tokenizer

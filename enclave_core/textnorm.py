"""Search-side text normalisation: NFKC where it is safe, never on the text a citation shows.

Japanese office text mixes full-width and half-width forms of the same thing ("ＡＢＣ１２３" and
"ABC123", half-width katakana "ｶﾀｶﾅ" and "カタカナ"). NFKC folds them, so a query typed one way finds a
document written the other way. It also rewrites characters whose compatibility form changes meaning
for a reader ("①" -> "1", "㈱" -> "(株)", "ｍ²" -> "m2"): harmless for matching, wrong for display. So
the stored chunk text keeps the original and only the text given to tokenizers and embedders is
normalised.
"""

from __future__ import annotations

import unicodedata

__all__ = ["normalize_for_search"]

# Full-width tilde / wave dash variants that NFKC leaves apart but writers use interchangeably.
_WAVES = str.maketrans({"〜": "~", "～": "~"})


def normalize_for_search(text: str) -> str:
    """NFKC-folded ``text`` for tokenizers and embedders (full-width ASCII, half-width kana, ideographic
    space); same meaning, possibly different length: never use its offsets on the original text."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(_WAVES)

"""Which Japanese legacy encoding a text file is in: Shift_JIS/CP932 or EUC-JP, decided by decoding.

charset-normalizer (3.5) was tried first and rejected: on short Japanese texts ("山田太郎様", one line
of a contract) it answered cp949 or johab for Shift_JIS and EUC-JP bytes. A strict decode plus a look
at what came out is reliable here because the two encodings rarely both succeed on real text, and when
they do, the wrong one produces half-width katakana and rare ideographs instead of hiragana and
common kanji. Hiragana decide a tie, then fewer half-width katakana: correctly decoded prose has hiragana, while
EUC-JP read as CP932 turns every byte into a half-width katakana and CP932 read as EUC-JP mostly fails.
"""

from __future__ import annotations

import re

__all__ = ["JAPANESE_ENCODINGS", "best_japanese_decoding", "japanese_heading_level", "japanese_plausibility"]

# CP932 is Microsoft's Shift_JIS (what Windows Notepad and Excel write); it is a superset of JIS X 0208
# Shift_JIS with NEC/IBM extensions (①, ㈱, 髙). EUC-JP: older Unix and web systems.
JAPANESE_ENCODINGS = ("cp932", "euc_jp")
# Share of non-ASCII characters that must look like ordinary Japanese for a decoding to be believed.
_MIN_PLAUSIBILITY = 0.8


def _ordinary_japanese(ch: str) -> bool:
    o = ord(ch)
    return (
        0x3000 <= o <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x4E00 <= o <= 0x9FFF  # unified ideographs
        or 0xFF01 <= o <= 0xFF5E  # full-width ASCII forms
        or 0x2460 <= o <= 0x24FF  # circled numbers
        or 0x2010 <= o <= 0x203B  # dashes, quotes, ※
        or 0x2190 <= o <= 0x25FF  # arrows, box drawing, ■□◆○
        or 0x3200 <= o <= 0x33FF  # ㈱ ㎡
        or 0xFF61 <= o <= 0xFF9F  # half-width katakana (old bank and payroll systems)
        or ch in "×÷°±¥§¶"
    )


def japanese_plausibility(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` that ordinary Japanese prose uses (0..1)."""
    wide = [ch for ch in text if ord(ch) >= 0x80]
    if not wide:
        return 0.0
    return sum(1 for ch in wide if _ordinary_japanese(ch)) / len(wide)


def best_japanese_decoding(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) for the Japanese encoding that decodes ``data`` strictly into the most ordinary
    Japanese, or None when neither does (then it is not a Japanese file, or a damaged one)."""
    best: tuple[tuple[int, int, float], str, str] | None = None
    for encoding in JAPANESE_ENCODINGS:  # on a full tie the first (CP932, the commonest) stays
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = japanese_plausibility(text)
        if score < _MIN_PLAUSIBILITY:
            continue
        hiragana = sum(1 for ch in text if 0x3041 <= ord(ch) <= 0x309F)
        half_width = sum(1 for ch in text if 0xFF61 <= ord(ch) <= 0xFF9F)
        key = (hiragana, -half_width, score)
        if best is None or key > best[0]:
            best = (key, text, encoding)
    return (best[1], best[2]) if best is not None else None


_KANJI_NUMBER = "[0-9０-９一二三四五六七八九十百千〇]+"
# Heading shapes of Japanese office documents, by outline level: 第一章/第1編 > 第1節 > 第1条 > ■/【】 > 1. > （1）.
_HEADINGS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(f"第{_KANJI_NUMBER}[編章部]")),
    (2, re.compile(f"第{_KANJI_NUMBER}節")),
    (3, re.compile(f"第{_KANJI_NUMBER}条(?:の{_KANJI_NUMBER})?")),
    (4, re.compile("[■□◆◇●▼▶◎]|【[^】]{1,30}】")),
    (5, re.compile("[0-9０-９]{1,2}[.．、](?![0-9０-９])")),
    (6, re.compile("[（(][0-9０-９一二三四五六七八九十]{1,2}[）)]")),
)
MAX_HEADING_LINE = 40


def japanese_heading_level(line: str) -> int | None:
    """Outline level of a Japanese heading line ("第1条（目的）", "■ 概要", "【注意事項】", "1. 概要",
    "（1）対象"), or None for body text: a heading is short and is not a sentence (no 。 at its end)."""
    text = line.strip()
    if not text or len(text) > MAX_HEADING_LINE or text.endswith(("。", "．")):
        return None
    for level, pattern in _HEADINGS:
        if pattern.match(text):
            return level
    return None

"""Offline language detection by script: Japanese or not, per document and per chunk.

The appliance has two analysis paths (English and Japanese), so the question is narrow: is this text
Japanese? Kana (hiragana, katakana) exist only in Japanese, so a text with a fair share of kana and
kanji among its letters and a kana (or a mark only Japanese writes: 〒, 丁目, 様) is Japanese; so is
all-kanji text without a character only simplified Chinese writes. Chinese text stays on the default path. No model, no
network, no dependency: a few character-class counts, cheap on any text.
"""

from __future__ import annotations

import re

__all__ = ["JAPANESE", "OTHER", "detect_language", "is_japanese", "japanese_runs", "latin_runs", "script_counts"]

JAPANESE = "ja"
OTHER = "en"  # the default analysis path; non-Japanese, non-English text is analysed as English today

# A text is Japanese when kana and kanji make up at least this share of its letters and it holds a
# kana, or a mark only Japanese writes, or no character only simplified Chinese writes. Forms and
# addresses can be all kanji ("担当：渡辺 大輔 電話 03-5512-8803", "〒134-9818 岩手県北区東和町39丁目");
# Chinese text (simplified, as mainland documents are) holds 们/这/东/话/证... and keeps the default path.
JAPANESE_SHARE = 0.3
MIN_KANA = 1
_JAPANESE_MARKS = re.compile("〒|々|丁目|番地|様|殿|株式会社|有限会社|合同会社|[0-9０-９]円")
# Simplified characters that Japanese never writes (its forms are 們這説時発対過還問見現経実種応様関電話...).
_SIMPLIFIED_ONLY = frozenset(
    "们这说时发对过还问见现经实种应样关电话码户证东车书长门间钱银务员业认让请记设计开为义乐习买亲从优传伤众齐"
)


def _is_kana(ch: str) -> bool:
    o = ord(ch)
    # Hiragana, katakana (incl. the prolonged sound mark), katakana phonetic extensions, half-width katakana.
    return 0x3041 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9D


def _is_kanji(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or o == 0x3005  # 々


def script_counts(text: str) -> tuple[int, int, int]:
    """(kana, kanji, other letters) in ``text``; digits, punctuation and spaces are not counted."""
    kana = kanji = other = 0
    for ch in text:
        if _is_kana(ch):
            kana += 1
        elif _is_kanji(ch):
            kanji += 1
        elif ch.isalpha():
            other += 1
    return kana, kanji, other


def is_japanese(text: str) -> bool:
    """True when ``text`` reads as Japanese (see the module doc for the rule)."""
    kana, kanji, other = script_counts(text)
    if (kana + kanji) < JAPANESE_SHARE * (kana + kanji + other) or kana + kanji == 0:
        return False
    if kana >= MIN_KANA or _JAPANESE_MARKS.search(text) is not None:
        return True
    return not any(ch in _SIMPLIFIED_ONLY for ch in text)


# A Latin-script run inside Japanese text is worth a second engine when it holds a letter (a name, an
# e-mail), or when it is a number in a foreign shape with at least this many digits: international
# (+44 20 7946 0958), grouped and not starting with 0 ((415) 555-0132), or an SSN (078-05-1120).
# Domestic Japanese numbers (0120-498-565, 03-...) and bare digit strings (法人番号, order numbers) are
# the Japanese engine's, read with their Japanese context (measured: benchmarks.pii_ja precision).
_RUN_MIN_DIGITS = 7
_ASCII_LETTER = re.compile("[A-Za-z]")
_FOREIGN_NUMBER = re.compile(r"\+|\(?[1-9]\d*\)?[ .-]\d|\d{3}-\d{2}-\d{4}\b")


def _is_japanese_script(ch: str) -> bool:
    """Kana, kanji, CJK punctuation (、。「」) and full-width forms (（）：０-９): what bounds a Latin run."""
    o = ord(ch)
    return _is_kana(ch) or _is_kanji(ch) or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF


def latin_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each maximal stretch of ``text`` without Japanese script that holds an ASCII letter
    or enough digits, edge whitespace trimmed: "Mr. Liam O'Brien" or "+1 (415) 555-0132" stays whole, so
    the English engine reads the stretch with all the context it has."""
    runs = []
    start = None
    for i, ch in enumerate([*text, "。"]):
        if not _is_japanese_script(ch):
            if start is None:
                start = i
            continue
        if start is not None:
            run = text[start:i]
            lead = len(run) - len(run.lstrip())
            run = run.strip()
            if _ASCII_LETTER.search(run) or (
                sum(c in "0123456789" for c in run) >= _RUN_MIN_DIGITS and _FOREIGN_NUMBER.match(run)
            ):
                runs.append((start + lead, start + lead + len(run)))
            start = None
    return runs


_JAPANESE_RUN = re.compile(r"[^A-Za-z]+")
_RUN_MIN_JAPANESE = 2  # kana/kanji: a name with an honorific, a surname and given name, 和暦, 普通 + number


def japanese_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each maximal stretch of ``text`` without an ASCII letter that holds at least two
    kana/kanji, edge whitespace trimmed: "山本 花子", "みずほ銀行 普通 1234567" or "昭和60年4月1日" inside
    English text stays whole with its digits, so the Japanese engine reads it with its own context."""
    runs = []
    for m in _JAPANESE_RUN.finditer(text):
        run = m.group()
        if sum(_is_kana(c) or _is_kanji(c) for c in run) < _RUN_MIN_JAPANESE:
            continue
        lead = len(run) - len(run.lstrip())
        runs.append((m.start() + lead, m.start() + lead + len(run.strip())))
    return runs


def detect_language(text: str) -> str:
    """``"ja"`` for Japanese text, else ``"en"`` (the default analysis path)."""
    return JAPANESE if is_japanese(text) else OTHER

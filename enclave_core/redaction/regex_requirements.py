"""Static proof that a regex cannot match a text lacking some character class (a digit, '@', CJK).

Used by the tests of ``gated_patterns``: a pattern may be skipped on a text without, say, a digit only if
every match of it needs one, in the matched text or in a positive lookaround (both lie inside the text).
The proof walks the pattern's parse tree (the standard library's parser, which reads the syntax these
patterns use; ``\\p{Han}``/``\\p{Hiragana}``/``\\p{Katakana}`` are read as "a CJK character", any other
``\\p{..}`` as "unknown"). It is conservative: anything it does not understand proves nothing.

A node *requires* the class when every way of matching it consumes (or asserts) a character of the class:
a literal or a set all of whose members are in it; a sequence when any element requires it; an alternation
when every branch does; a repeat with a minimum of at least one of a requiring body; a group, atomic group or
positive lookaround when its body does. Negative lookarounds, back-references, negated sets, ``.`` and
anchors never do. Case-insensitive matching changes nothing for these classes: no character case-folds to
a digit, '@' or a CJK character, nor they to another character.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import regex

__all__ = ["CJK_FLOOR", "is_cjk", "is_digit", "requires"]

#: Every Han, Hiragana and Katakana character (and the postal mark 〒) is at or above U+2E80.
CJK_FLOOR = 0x2E80
_DIGIT = regex.compile(r"\d")
_CJK_PROPERTY = re.compile(r"\\p\{(?:Han|Hiragana|Katakana|Script=Han|Script=Hiragana|Script=Katakana)\}")
_OTHER_PROPERTY = re.compile(r"\\[pP]\{[^}]*\}|\\P\{(?:Han|Hiragana|Katakana)\}")
_MAX_RANGE = 4096


def is_digit(code: int) -> bool:
    """A decimal digit to the ``regex`` module (the engine the patterns run on)."""
    return _DIGIT.fullmatch(chr(code)) is not None


def is_cjk(code: int) -> bool:
    return code >= CJK_FLOOR


def requires(pattern: str, member: Callable[[int], bool], *, digit_category: bool = False) -> bool:
    """True when every match of ``pattern`` needs a character for which ``member`` holds.

    ``digit_category``: whether ``\\d`` (and ``[0-9]``-style sets) count as members (the class is "digits").
    False when the pattern cannot be parsed: then nothing is proven.
    """
    source = _CJK_PROPERTY.sub("\u3041", pattern)  # one hiragana: "some CJK character"
    source = _OTHER_PROPERTY.sub("\ue000", source)  # a private-use character: proves nothing useful
    try:
        parsed = sre_parse.parse(source, 0)
    except (re.error, ValueError, OverflowError, RecursionError):
        return False
    return _seq(list(parsed), member, digit_category)


def _seq(items: list[tuple[Any, Any]], member: Callable[[int], bool], digits: bool) -> bool:
    return any(_node(op, av, member, digits) for op, av in items)


def _node(op: Any, av: Any, member: Callable[[int], bool], digits: bool) -> bool:
    if op is sre.LITERAL:
        return bool(member(av))
    if op is sre.IN:
        return _charset(av, member, digits)
    if op is sre.BRANCH:
        return all(_seq(list(branch), member, digits) for branch in av[1])
    if op is sre.SUBPATTERN:
        return _seq(list(av[3]), member, digits)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)):
        low, _high, body = av
        return low >= 1 and _seq(list(body), member, digits)
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return _seq(list(av), member, digits)
    if op is sre.ASSERT:  # positive lookahead / lookbehind: its text lies in the input
        return _seq(list(av[1]), member, digits)
    if op is sre.GROUPREF_EXISTS:
        _group, yes, no = av
        return no is not None and _seq(list(yes), member, digits) and _seq(list(no), member, digits)
    return False  # ASSERT_NOT, ANY, NOT_LITERAL, AT, GROUPREF, CATEGORY outside a set, ...


def _charset(items: list[tuple[Any, Any]], member: Callable[[int], bool], digits: bool) -> bool:
    if not items:
        return False
    for op, av in items:
        if op is sre.NEGATE:
            return False
        if op is sre.LITERAL:
            ok = bool(member(av))
        elif op is sre.RANGE:
            low, high = av
            ok = high - low <= _MAX_RANGE and all(member(c) for c in range(low, high + 1))
        elif op is sre.CATEGORY:
            ok = digits and av is sre.CATEGORY_DIGIT
        else:
            ok = False
        if not ok:
            return False
    return True

"""Presidio patterns compiled once, on first use, and skipped on texts they provably cannot match.

Presidio compiles every ``Pattern`` when it is constructed (to validate it, without flags) and again on its
first use (with the recognizer's flags), both with the ``regex`` package's pure-Python parser: most of the
Redactor's start-up. Here our own recognizers build ``LazyPattern`` (no validation compile: the patterns are
constants, compiled by the tests), and ``gate_patterns`` gives every pattern of a built recognizer a regex
object that compiles on first use, once, with the recognizer's flags.

Gates: a pattern listed in ``GATES`` is only run on a text holding a character of its gate's class (a digit,
'@', a CJK character), tested with one tiny precompiled regex. A pattern is listed only if every match of it
needs such a character (regex_requirements proves it; tests/unit/test_redaction_gates.py checks every entry),
so skipping it changes no result. A recognizer called with other flags than its own falls back to Presidio's
compile (the objects here are only used for the recognizer's own flags).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import regex
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

__all__ = [
    "AT",
    "CJK",
    "DIGIT",
    "GATES",
    "Gate",
    "GatedPhoneRecognizer",
    "LazyPattern",
    "LazyRegex",
    "gate_of",
    "gate_patterns",
]


@dataclass(frozen=True)
class Gate:
    """A character class some patterns cannot match without; ``admits(text)`` is one C-level regex search."""

    name: str
    probe: regex.Pattern[str]

    def admits(self, text: str) -> bool:
        return self.probe.search(text) is not None


@dataclass(frozen=True)
class _DigitGate(Gate):
    """Digits to the ``regex`` engine (the patterns') or to the standard library's (phonenumbers'): either."""

    fallback: re.Pattern[str] = re.compile(r"\d")

    def admits(self, text: str) -> bool:
        return self.probe.search(text) is not None or self.fallback.search(text) is not None


DIGIT: Gate = _DigitGate("digit", regex.compile(r"\d"))
AT = Gate("at-sign", regex.compile("@"))
CJK = Gate("cjk", regex.compile("[^\\x00-\\u2e7f]"))  # any character at or above U+2E80 (regex_requirements)

_ADDRESS_WITHOUT_DIGITS = ("a line holding only a unit", "the corner of A and B")
#: Recognizer name -> pattern name -> gate; "*" names every other pattern of the recognizer, None: no gate.
#: Every entry is proven by tests/unit/test_redaction_gates.py (regex_requirements).
GATES: dict[str, dict[str, Gate | None]] = {
    "StreetAddressRecognizer": {
        "*": DIGIT,
        **dict.fromkeys(_ADDRESS_WITHOUT_DIGITS),
        "Japanese address": CJK,
        "Japanese postcode": CJK,
        "Chinese address": CJK,
    },
    "AgeRecognizer": {"*": DIGIT, "N years old, in words": None, "aged N, in words": None},
    "DateOfBirthRecognizer": {"*": DIGIT},
    "ExtraPhoneRecognizer": {"*": DIGIT},
    "AnyDomainEmailRecognizer": {"*": AT},
    "CardNearKeywordRecognizer": {"*": DIGIT},
    "CreditCardRecognizer": {"*": DIGIT},
    "IbanRecognizer": {"*": DIGIT},
    "LowerCaseIbanRecognizer": {"*": DIGIT},
    "IpRecognizer": {"IPv4_mapped": DIGIT, "IPv4_embedded": DIGIT, "IPv4": DIGIT},
    "NhsRecognizer": {"*": DIGIT},
    "UkNinoRecognizer": {"*": DIGIT},
    "UsBankRecognizer": {"*": DIGIT},
    "UsLicenseRecognizer": {"*": DIGIT},
    "UsItinRecognizer": {"*": DIGIT},
    "UsPassportRecognizer": {"*": DIGIT},
    "UsSsnRecognizer": {"*": DIGIT},
    "CjkNameRecognizer": {"*": CJK},
}


class LazyPattern(Pattern):
    """A Presidio Pattern that is not compiled when constructed (Presidio's own compiles it to validate it)."""

    def __init__(self, name: str, regex: str, score: float) -> None:
        if not 0 <= score <= 1:
            raise ValueError(f"Invalid score: {score}. Score should be between 0 and 1")
        self.name = name
        self.regex = regex
        self.score = score
        self.compiled_regex: Any = None
        self.compiled_with_flags: Any = None


class LazyRegex:
    """Stands in for a compiled pattern in Presidio's matching loop: gate first, compile on first need."""

    __slots__ = ("_compiled", "_flags", "_gate", "_lock", "_source")

    def __init__(self, source: str, flags: int, gate: Gate | None) -> None:
        self._source = source
        self._flags = flags
        self._gate = gate
        self._compiled: regex.Pattern[str] | None = None
        self._lock = threading.Lock()

    @property
    def gate(self) -> Gate | None:
        return self._gate

    @property
    def is_compiled(self) -> bool:
        return self._compiled is not None

    def compiled(self) -> regex.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = regex.compile(self._source, flags=self._flags)
                compiled = self._compiled
        return compiled

    def finditer(self, text: str, *args: Any, **kwargs: Any) -> Iterator[regex.Match[str]]:
        if self._gate is not None and not self._gate.admits(text):
            return iter(())
        return self.compiled().finditer(text, *args, **kwargs)


def gate_of(recognizer_name: str, pattern_name: str) -> Gate | None:
    table = GATES.get(recognizer_name, {})
    return table[pattern_name] if pattern_name in table else table.get("*")


def gate_patterns(recognizer: EntityRecognizer) -> None:
    """Give a pattern recognizer's patterns lazy, gated regexes (fresh Pattern objects: Presidio's own
    recognizers share theirs between instances through class attributes)."""
    if not isinstance(recognizer, PatternRecognizer):
        return
    target: Any = recognizer  # Presidio's attributes are untyped
    flags: int = target.global_regex_flags or 0
    name: str = target.name
    patterns: list[Any] = list(target.patterns)
    gated: list[Pattern] = []
    for pattern in patterns:
        copy = LazyPattern(pattern.name, pattern.regex, pattern.score)
        copy.compiled_regex = LazyRegex(pattern.regex, flags, gate_of(name, pattern.name))
        copy.compiled_with_flags = flags
        gated.append(copy)
    target.patterns = gated


class GatedPhoneRecognizer(PhoneRecognizer):
    """Presidio's PhoneRecognizer, not run on a text without a digit.

    python-phonenumbers finds candidates with one regex (``phonenumbermatcher._PATTERN``) that needs a
    digit (proven by the tests), and reports nothing else.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("name", "PhoneRecognizer")
        super().__init__(**kwargs)

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if not DIGIT.admits(text):
            return []
        return list(super().analyze(text, entities, nlp_artifacts))  # type: ignore[arg-type]
